"""Command-line commands available with every configuration (``flask --help`` lists them)."""
from .console import protect_console


def register_commands(app) -> None:
    # Once per process that builds the app, before any command prints: a report with text the
    # console's code page cannot hold must not die half-way (see app/cli/console.py).
    protect_console()
    from .data_commands import init_db_command, search_index_command, seed_demo_command
    app.cli.add_command(init_db_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(search_index_command)
    from .load_command import load_command, undo_load_command
    app.cli.add_command(load_command)
    app.cli.add_command(undo_load_command)
    from ..retention.cli import purge_command
    app.cli.add_command(purge_command)
    from ..jobs.cli import jobs_group
    app.cli.add_command(jobs_group)
