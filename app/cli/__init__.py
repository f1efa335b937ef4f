"""Command-line commands available with every configuration (``flask --help`` lists them)."""


def register_commands(app) -> None:
    from .data_commands import init_db_command, seed_demo_command
    app.cli.add_command(init_db_command)
    app.cli.add_command(seed_demo_command)
