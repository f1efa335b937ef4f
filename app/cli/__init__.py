"""Command-line commands available with every configuration (``flask --help`` lists them)."""


def register_commands(app) -> None:
    from .data_commands import init_db_command, seed_demo_command
    app.cli.add_command(init_db_command)
    app.cli.add_command(seed_demo_command)
    from .load_command import load_command, undo_load_command
    app.cli.add_command(load_command)
    app.cli.add_command(undo_load_command)
    from ..jobs.cli import jobs_group
    app.cli.add_command(jobs_group)
