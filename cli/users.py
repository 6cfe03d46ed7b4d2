"""`users`: staff accounts."""
import os

import click
from flask.cli import AppGroup

from cli.common import require_station
from feedback import accounts, clock
from feedback.storage.db import get_db, write

users_cli = AppGroup("users", help="Staff accounts.")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(accounts.ROLES))
@click.option("--district", help="The district a 'district' account looks after.")
@click.option("--station", "station_code", help="The station a 'manager' account looks after.")
def create_user(username, role, district, station_code):
    """Add a staff account; the password comes from FEEDBACK_PASSWORD or a prompt."""
    if role == "district" and not district:
        raise click.UsageError("a district account needs --district")
    if role == "manager":
        if not station_code:
            raise click.UsageError("a manager account needs --station")
        require_station(station_code)
    if accounts.user_by(get_db(), "username", username):
        raise click.UsageError(f"there is already a user {username!r}")
    password = new_password()
    db = get_db()
    with write(db):
        accounts.create_user(db, username, password, role, district if role == "district" else None,
                         station_code if role == "manager" else None)
    click.echo(f"created {role} {username}")


def new_password() -> str:
    """A new password from FEEDBACK_PASSWORD or a prompt, checked."""
    password = os.environ.get("FEEDBACK_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.check_new_password(password)
    except accounts.PasswordRefused as refused:
        raise click.UsageError(str(refused)) from None
    return password


def require_user(username: str) -> dict:
    user = accounts.user_by(get_db(), "username", username)
    if user is None:
        raise click.UsageError(f"no user {username!r}; see `users list`")
    return user


@users_cli.command("list")
def list_users():
    """List the staff accounts: role, what they look after, status and live API tokens."""
    rows = get_db().query(
        """SELECT username, role, district, station_code, disabled_at,
                  (SELECT count(*) FROM api_tokens WHERE user_id = users.id
                   AND revoked_at IS NULL) AS tokens
           FROM users ORDER BY username""")
    for row in rows:
        scope = row["district"] or row["station_code"] or "all stations"
        status = f"disabled since {row['disabled_at']}" if row["disabled_at"] else "active"
        click.echo(f"{row['username']}\t{row['role']}\t{scope}\t{status}\t{row['tokens']} token(s)")


def change_user(username: str, change):
    """Run ``change(db, user_id, now)`` on an existing account in one write; its result."""
    user = require_user(username)
    db = get_db()
    with write(db):
        return change(db, user["id"], clock.now())


@users_cli.command("disable")
@click.argument("username")
def disable_user(username):
    """Stop an account: its sessions end and its API tokens are revoked."""
    change_user(username, lambda db, user_id, now: accounts.set_disabled(db, user_id, True, now))
    click.echo(f"{username} disabled")


@users_cli.command("enable")
@click.argument("username")
def enable_user(username):
    """Let a disabled account sign in again (its old sessions and tokens stay ended)."""
    change_user(username, lambda db, user_id, now: accounts.set_disabled(db, user_id, False, now))
    click.echo(f"{username} enabled")


@users_cli.command("passwd")
@click.argument("username")
def change_password(username):
    """Set a new password (FEEDBACK_PASSWORD or a prompt); the user's sessions end."""
    require_user(username)
    password = new_password()
    change_user(username, lambda db, user_id, now: accounts.set_password(db, user_id, password, now))
    click.echo(f"new password set for {username}; their sessions have ended")


@users_cli.command("revoke-tokens")
@click.argument("username")
def revoke_tokens(username):
    """Revoke every API token of an account."""
    count = change_user(username, accounts.revoke_tokens)
    click.echo(f"revoked {count} token(s) of {username}")


@users_cli.command("token")
@click.option("--username", required=True)
def create_token(username):
    """Print a new API token for Authorization: Bearer; it is shown only this once."""
    user = require_user(username)
    db = get_db()
    with write(db):
        click.echo(accounts.create_token(db, user["id"]))
