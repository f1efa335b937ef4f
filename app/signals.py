"""Signals other parts of Flowdesk subscribe to.

``load_committed`` is sent by ``app.loading.service.run_load`` once a load has finished and its
transaction is over (committed, or rolled back for a dry run or a rejected file: subscribers
check ``outcome.status`` and ``outcome.dry_run``). It is sent outside the load's transaction, so
a subscriber can neither hold up nor undo the load; subscribers must not raise.
Arguments: the app as sender, ``dataset`` (its name) and ``outcome`` (a ``LoadOutcome``).
"""
from blinker import Namespace

signals = Namespace()

load_committed = signals.signal('load-committed')
