"""axe-core, the accessibility engine, run inside the test browser on the page on screen.

The engine is the ``axe.min.js`` that the axe-selenium-python package ships (requirements.txt):
it is read from the installed package and injected with WebDriver's ``execute_script``, so the
browser never requests anything outside the app. Results are kept per page, screen width and
state; ``write_report`` lists every violation in ``artifacts/accessibility/`` beside the
screenshots, and the tests fail on any violation of serious or critical impact.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Where the axe report goes (git-ignored); FLOWDESK_ACCESSIBILITY_DIR overrides it.
REPORT_DIR = Path(os.environ.get('FLOWDESK_ACCESSIBILITY_DIR')
                 or ROOT / 'artifacts' / 'accessibility')
BLOCKING_IMPACTS = ('serious', 'critical')
#: The rule sets checked: WCAG 2.0 A and AA, and axe's best practices (the axe-core that
#: axe-selenium-python 2.1.6 ships, 3.1.1, has no WCAG 2.1 tags).
RUN_OPTIONS = {'runOnly': {'type': 'tag', 'values': ['wcag2a', 'wcag2aa', 'best-practice']},
               'resultTypes': ['violations']}


def axe_source() -> str | None:
    """The text of axe.min.js from the installed axe-selenium-python, or None without it."""
    try:
        import axe_selenium_python
    except ImportError:
        return None
    folder = Path(axe_selenium_python.__file__).resolve().parent
    found = sorted(folder.rglob('axe.min.js'))
    return found[0].read_text(encoding='utf-8') if found else None


@dataclass
class AxeRun:
    """The violations axe found on one page at one width."""
    page: str
    width: str
    url: str
    violations: list[dict] = field(default_factory=list)

    def with_impact(self, *impacts: str) -> list[dict]:
        return [v for v in self.violations if v.get('impact') in impacts]


def run_axe(driver, source: str, page: str, width: str) -> AxeRun:
    """Inject axe (once per document) and check the whole page as it is on screen."""
    if not driver.execute_script('return !!window.axe'):
        driver.execute_script(source)
    result = driver.execute_async_script(
        'const done = arguments[arguments.length - 1];'
        'axe.run(document, arguments[0]).then(r => done(r.violations),'
        ' e => done([{id: "axe-error", impact: "critical", help: String(e), nodes: []}]));',
        RUN_OPTIONS)
    violations = [{'id': v['id'], 'impact': v.get('impact'), 'help': v.get('help', ''),
                   'nodes': [n.get('target') for n in v.get('nodes', [])][:10]}
                  for v in result]
    return AxeRun(page, width, driver.current_url, violations)


def blocking(runs: list[AxeRun]) -> list[str]:
    """One line per serious or critical violation, for an assertion message."""
    return [f'{run.page} ({run.width}): {v["impact"]} {v["id"]} — {v["help"]} at {v["nodes"]}'
            for run in runs for v in run.with_impact(*BLOCKING_IMPACTS)]


def write_report(runs: list[AxeRun], name: str = 'axe-report') -> Path:
    """``name``.json (every run) and ``name``.md (a table of what was found, the moderate and
    minor ones included) in REPORT_DIR."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / f'{name}.json').write_text(
        json.dumps([run.__dict__ for run in runs], indent=2), encoding='utf-8')
    lines = [f'# axe-core accessibility report ({len(runs)} page checks)', '',
             f'Serious or critical violations: {len(blocking(runs))} (the tests allow none).', '',
             '| page | width | impact | rule | what | where |', '|---|---|---|---|---|---|']
    for run in runs:
        for v in run.violations:
            where = '; '.join(' '.join(t) if isinstance(t, list) else str(t) for t in v['nodes'])
            lines.append(f'| {run.page} | {run.width} | {v["impact"]} | {v["id"]} | '
                         f'{v["help"]} | `{where}` |')
    if not any(run.violations for run in runs):
        lines.append('| every page | both | – | – | no violations | |')
    path = REPORT_DIR / f'{name}.md'
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return path
