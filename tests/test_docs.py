"""The pages people read: every setting, command and link they name is real, and every setting
and command there is is named."""
import re
from pathlib import Path

import click

REPOSITORY = Path(__file__).resolve().parent.parent
PAGES = [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").glob("*.md"))]


def commands(group: click.Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix}{name} ")
        elif name not in ("run", "shell", "routes"):  # Flask's own
            found.append(f"{prefix}{name}")
    return found


def test_every_setting_the_service_reads_is_in_the_operators_table():
    operator = (REPOSITORY / "docs" / "operator.md").read_text(encoding="utf-8")
    code = "".join(path.read_text(encoding="utf-8") for path in
                   [*REPOSITORY.glob("feedback/**/*.py"), *REPOSITORY.glob("web/*.py"),
                    *REPOSITORY.glob("cli/*.py"), REPOSITORY / "gunicorn.conf.py"])
    settings = set(re.findall(r"FEEDBACK_[A-Z_]+[A-Z]", code)) - {"FEEDBACK_FUZZ"}
    assert len(settings) > 15
    assert {name for name in settings if f"`{name}`" not in operator} == set()


def test_every_command_is_in_the_operators_table(app):
    operator = (REPOSITORY / "docs" / "operator.md").read_text(encoding="utf-8")
    listed = commands(app.cli)
    assert "stations import" in listed and "check" in listed
    assert [name for name in listed if f"| `{name}" not in operator
            and f"/ `{name}" not in operator] == []


def test_every_link_between_the_pages_leads_somewhere():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:]+\.(?:md|csv))(#[^)]*)?\)", text):
            path, anchor = (page.parent / target[0]).resolve(), target[1]
            assert path.exists(), f"{page.name}: {target[0]}"
            if anchor:
                headings = {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
                            for line in path.read_text(encoding="utf-8").splitlines()
                            if line.startswith("#")}
                assert anchor[1:] in headings, f"{page.name}: {target[0]}{anchor}"
        for anchor in re.findall(r"\]\((#[^)]+)\)", text):
            headings = {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
                        for line in text.splitlines() if line.startswith("#")}
            assert anchor[1:] in headings, f"{page.name}: {anchor}"


def test_the_readme_is_a_first_screen_and_quotes_no_measured_figures():
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 80
    assert not re.search(r"\d+(\.\d+)? ?(ms|µs|s|x)\b", readme)
