"""Reading responses and flows for employees: filters parsed from URLs, keyset pagination, text
search (the error-reason dictionary), dashboard figures. Shared by the pages (app.main), the JSON
API (app.api) and the exports (app.exports), so a link, an API call and an export with the same
parameters agree."""
