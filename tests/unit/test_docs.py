"""The documentation keeps in step with the code: every folder of app/ is in the README's
"Project layout", every relative link in README.md and docs/*.md leads to a file (and heading)
that exists, and nothing cites the design notes that used to live outside the repository
(their home is docs/architecture.md).

The checks are small functions, each also run once on a made-up snippet that breaks it, so a
check that can no longer fail is noticed."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Spelled in two parts so that this file does not cite it itself.
OLD_DESIGN_FILE = 'design' + '.md'
#: Folders of app/ that hold no Python package but must be in the layout, with their subfolders.
ASSET_FOLDERS = ('templates', 'static')
SKIPPED_DIRS = {'__pycache__', '.git', '.venv', 'instance', 'artifacts', 'tmp', 'node_modules'}
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
FENCE = re.compile(r'^(```|~~~).*?^\1', re.MULTILINE | re.DOTALL)
HEADING = re.compile(r'^#{1,6}\s+(.+?)\s*#*\s*$', re.MULTILINE)


# -- README "Project layout" -------------------------------------------------------------
def layout_section(readme: str) -> str:
    """The first code block of the "## Project layout" section ('' when there is none)."""
    match = re.search(r'^## Project layout\s*$(.*?)(?=^## |\Z)', readme, re.MULTILINE | re.DOTALL)
    if not match:
        return ''
    block = re.search(r'^```[^\n]*\n(.*?)^```', match.group(1), re.MULTILINE | re.DOTALL)
    return block.group(1) if block else ''


def layout_folders(readme: str) -> set[str]:
    """Folder paths the layout names, one per line, nested by two spaces of indentation:
    ``app/`` then ``  admin/`` is ``app/admin``."""
    folders, stack = set(), []
    for line in layout_section(readme).splitlines():
        stripped = line.lstrip(' ')
        name = stripped.split(' ', 1)[0]
        if not name.endswith('/'):
            continue
        depth = (len(line) - len(stripped)) // 2
        stack[depth:] = [name.rstrip('/')]
        folders.add('/'.join(stack))
    return folders


def app_folders(root: Path) -> set[str]:
    """Every Python package under app/, plus templates/ and static/ and their subfolders."""
    app = root / 'app'
    found = set()
    for path in app.rglob('__init__.py'):
        if not SKIPPED_DIRS.intersection(path.relative_to(root).parts) and path.parent != app:
            found.add(path.parent.relative_to(root).as_posix())
    for name in ASSET_FOLDERS:
        folder = app / name
        if folder.is_dir():
            found.add(folder.relative_to(root).as_posix())
            found.update(child.relative_to(root).as_posix() for child in folder.iterdir()
                         if child.is_dir() and child.name not in SKIPPED_DIRS)
    return found


def tracked_folders(files: list[str], depth: int = 2) -> set[str]:
    """The folders, down to ``depth`` levels, that hold tracked files (``tests/unit``, ``.ci``)."""
    found = set()
    for name in files:
        parts = name.split('/')[:-1]
        found.update('/'.join(parts[:level]) for level in range(1, min(depth, len(parts)) + 1))
    return found


def missing_from_layout(readme: str, folders: set[str]) -> list[str]:
    return sorted(folders - layout_folders(readme))


# -- citations of the old design notes -----------------------------------------------------
def repository_text_files(root: Path) -> list[Path]:
    """The tracked files (git), or every file outside build folders when git is not there."""
    try:
        listed = subprocess.run(['git', 'ls-files', '-z'], cwd=root, capture_output=True,
                                check=True).stdout.decode('utf-8').split('\0')
        return [root / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = [name for name in dirs if name not in SKIPPED_DIRS]
            files += [Path(folder) / name for name in names]
        return files


def citations(texts: dict[str, str], name: str = OLD_DESIGN_FILE) -> list[str]:
    """``path:line`` of every line that names ``name``."""
    return [f'{path}:{number}' for path, text in sorted(texts.items())
            for number, line in enumerate(text.splitlines(), 1) if name in line]


def read_texts(files: list[Path], root: Path) -> dict[str, str]:
    texts = {}
    for path in files:
        try:
            texts[path.relative_to(root).as_posix()] = path.read_text(encoding='utf-8')
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary fixtures, images, a symlink to a folder
    return texts


# -- relative links ------------------------------------------------------------------------
def heading_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def anchors(markdown: str) -> set[str]:
    return {heading_anchor(h) for h in HEADING.findall(FENCE.sub('', markdown))}


def broken_links(markdown_file: Path) -> list[str]:
    """Relative links of a Markdown file whose file, or whose #heading, does not exist."""
    text = markdown_file.read_text(encoding='utf-8')
    broken = []
    for target in LINK.findall(FENCE.sub('', text)):
        if re.match(r'[a-z][a-z0-9+.-]*:', target, re.IGNORECASE):
            continue  # http:, https:, mailto:
        path_part, _, anchor = target.partition('#')
        path_part = path_part.split('?', 1)[0]
        linked = (markdown_file.parent / path_part) if path_part else markdown_file
        if not linked.exists():
            broken.append(f'{target} (no such file)')
        elif anchor and linked.suffix == '.md' and anchor not in anchors(
                linked.read_text(encoding='utf-8')):
            broken.append(f'{target} (no such heading)')
    return broken


def documentation_files(root: Path) -> list[Path]:
    return [root / 'README.md', *sorted((root / 'docs').glob('*.md'))]


class ProjectLayoutTests(unittest.TestCase):
    def test_every_app_folder_is_in_the_readme_layout(self):
        readme = (ROOT / 'README.md').read_text(encoding='utf-8')
        folders = app_folders(ROOT)
        self.assertIn('app/loading', folders)
        self.assertIn('app/templates/admin', folders)
        self.assertEqual(missing_from_layout(readme, folders), [],
                         'add one line per folder to README.md "Project layout"')

    def test_every_top_level_folder_and_its_subfolders_are_in_the_layout(self):
        readme = (ROOT / 'README.md').read_text(encoding='utf-8')
        names = [path.relative_to(ROOT).as_posix() for path in repository_text_files(ROOT)]
        folders = tracked_folders(names)
        self.assertIn('tests/browser', folders)
        self.assertEqual(missing_from_layout(readme, folders), [],
                         'add one line per folder to README.md "Project layout"')

    def test_a_layout_without_a_folder_is_caught(self):
        readme = ('# Tool\n\n## Project layout\n\n```\nconfig.py   settings\napp/        code\n'
                  '  admin/    admin pages\n  static/   assets\n    css/    styles\n```\n\n'
                  '## Security\n\n```\napi/ in another section does not count\n```\n')
        folders = {'app/admin', 'app/api', 'app/static', 'app/static/css'}
        self.assertEqual(layout_folders(readme),
                         {'app', 'app/admin', 'app/static', 'app/static/css'})
        self.assertEqual(missing_from_layout(readme, folders), ['app/api'])
        self.assertEqual(tracked_folders(['README.md', 'app/static/css/a.css', '.ci/run']),
                         {'app', 'app/static', '.ci'})


class CitationTests(unittest.TestCase):
    def test_nothing_in_the_repository_cites_the_old_design_notes(self):
        texts = read_texts(repository_text_files(ROOT), ROOT)
        self.assertIn('docs/architecture.md', texts)
        self.assertEqual(citations(texts), [],
                         'cite docs/architecture.md (the section) instead')

    def test_a_citation_is_caught(self):
        texts = {'app/x.py': '"""Rules."""\n# see ' + OLD_DESIGN_FILE + ' §2\n',
                 'docs/a.md': 'See docs/architecture.md.\n'}
        self.assertEqual(citations(texts), ['app/x.py:2'])


class LinkTests(unittest.TestCase):
    def test_relative_links_in_readme_and_docs_lead_somewhere(self):
        files = documentation_files(ROOT)
        self.assertIn(ROOT / 'docs' / 'architecture.md', files)
        for path in files:
            with self.subTest(path=path.relative_to(ROOT).as_posix()):
                self.assertEqual(broken_links(path), [])

    def test_a_broken_link_or_anchor_is_caught(self):
        with tempfile.TemporaryDirectory() as folder:
            docs = Path(folder) / 'docs'
            docs.mkdir()
            (Path(folder) / 'app').mkdir()
            (docs / 'other.md').write_text('# Other\n\n## 2. The binds (app/ops)\n',
                                           encoding='utf-8')
            page = docs / 'page.md'
            page.write_text(
                '# Page\n\n[ok](other.md) [ok](other.md#2-the-binds-appops) [ok](../app/) '
                '[ok](#page) [web](https://example.com/x.md)\n'
                '[gone](../app/missing.py) [bad anchor](other.md#3-nothing)\n'
                '```\n[in code](nowhere.md)\n```\n', encoding='utf-8')
            self.assertEqual(broken_links(page), ['../app/missing.py (no such file)',
                                                  'other.md#3-nothing (no such heading)'])


if __name__ == '__main__':
    unittest.main()
