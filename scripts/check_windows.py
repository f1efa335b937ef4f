"""Static checks for code that works on Linux but breaks on the Windows servers Flowdesk runs on
(docs/deploy-iis.md "Windows specifics" explains each rule). Standard library only; run by
scripts/test.sh before the tests, and any finding fails the run.

Usage: python scripts/check_windows.py [PATH ...]   (default: app config.py flasky.py)

Rules:
  W1 text-encoding  a text open()/Path.open()/read_text()/write_text()/TextIOWrapper/text-mode
                    temporary file without encoding= (Windows reads and writes cp1252 by default)
  W2 posix-only     a module, function or signal Windows does not have (fcntl, os.fork, SIGHUP…)
  W3 rename         os.rename / Path.rename (fail on Windows when the target exists: use replace)
  W4 slash-path     a file path glued together with '/' or '\\' strings (use pathlib's /)
  W5 open-file-move a file moved or deleted inside the `with` block that holds it open
                    (Windows refuses: the file is in use)
  W6 csv-newline    a text file given to the csv module without newline='' (blank lines on Windows)

A line may opt out with a trailing ``# windows-ok: <why>`` comment.
"""
from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATHS = ('app', 'config.py', 'flasky.py')
OPT_OUT = re.compile(r'#\s*windows-ok:\s*\S')

POSIX_MODULES = frozenset({'fcntl', 'resource', 'pwd', 'grp', 'termios', 'tty', 'pty', 'posix',
                           'syslog', 'crypt', 'spwd', 'nis', 'curses', 'readline'})
POSIX_OS = frozenset({
    'fork', 'forkpty', 'getuid', 'geteuid', 'getgid', 'getegid', 'getgroups', 'getresuid',
    'setuid', 'seteuid', 'setgid', 'setegid', 'setsid', 'setpgid', 'setpgrp', 'getpgid', 'killpg',
    'chown', 'lchown', 'fchown', 'mkfifo', 'mknod', 'nice', 'getloadavg', 'uname', 'wait3',
    'wait4', 'sysconf', 'statvfs', 'fstatvfs', 'openpty', 'sched_getaffinity', 'pipe2',
    'posix_spawn', 'register_at_fork', 'sync', 'getpriority', 'setpriority', 'initgroups',
    'ttyname', 'ctermid'})
POSIX_SIGNAL = frozenset({
    'SIGKILL', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGCHLD', 'SIGQUIT', 'SIGPIPE',
    'SIGSTOP', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH', 'SIGXCPU', 'SIGIO',
    'SIGPOLL', 'SIGPROF', 'SIGSYS', 'SIGTRAP', 'SIGURG', 'SIGVTALRM', 'alarm', 'setitimer',
    'getitimer', 'pause', 'siginterrupt', 'pthread_kill', 'pthread_sigmask', 'sigwait',
    'sigwaitinfo', 'sigtimedwait', 'sigpending', 'ITIMER_REAL'})
POSIX_NAMES = {'os': POSIX_OS, 'signal': POSIX_SIGNAL}
MOVERS = {('os', 'replace'), ('os', 'rename'), ('os', 'remove'), ('os', 'unlink'),
          ('shutil', 'move'), ('shutil', 'rmtree')}
TEMPFILES = frozenset({'TemporaryFile', 'NamedTemporaryFile', 'SpooledTemporaryFile'})
CSV_USERS = frozenset({'reader', 'writer', 'DictReader', 'DictWriter'})
PATHISH = re.compile(r'path|dir|folder|file|root', re.IGNORECASE)
MODE = re.compile(r'[rwxabt+U]+\Z')
SLASHES = ('/', '\\')


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f'{self.path}:{self.line}: {self.rule} {self.message}'


def dotted(node) -> tuple[str, ...]:
    """``os.path.join`` -> ('os', 'path', 'join'); () for anything that is not a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return tuple(reversed(parts))
    return ()


def literal(node):
    return node.value if isinstance(node, ast.Constant) else None


def argument(call: ast.Call, position: int | None, keyword: str):
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    if position is not None and len(call.args) > position:
        return call.args[position]
    return None


def has_star_kwargs(call: ast.Call) -> bool:
    return any(item.arg is None for item in call.keywords)


def name_of(node) -> str:
    """The word a value is known by: ``folder``, ``self.upload_dir``, ``str(path)``,
    ``config['UPLOAD_FOLDER']``."""
    if isinstance(node, ast.Call):
        if dotted(node.func) == ('str',) and node.args:
            return name_of(node.args[0])
        return name_of(node.func)
    if isinstance(node, ast.Subscript):
        key = literal(node.slice)
        return key if isinstance(key, str) else name_of(node.value)
    if isinstance(node, ast.Attribute):
        return '' if dotted(node.value) == ('request',) else node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ''


def is_pathish(node) -> bool:
    name = name_of(node)
    return bool(name) and bool(PATHISH.search(name)) and 'url' not in name.lower()


class Checker(ast.NodeVisitor):
    def __init__(self, path: str, source: str):
        self.path = path
        self.lines = source.splitlines()
        self.findings: list[Finding] = []
        self.aliases = {'os': 'os', 'signal': 'signal', 'shutil': 'shutil', 'io': 'io',
                        'tempfile': 'tempfile', 'csv': 'csv'}
        self.imported = {}          # local name -> (module, name) for `from m import n`
        self.no_newline = set()     # names bound to text files opened without newline=

    # -- helpers -----------------------------------------------------------------------------
    def report(self, node, rule: str, message: str) -> None:
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ''
        if not OPT_OUT.search(line):
            self.findings.append(Finding(self.path, node.lineno, rule, message))

    def resolve(self, func) -> tuple[str, ...]:
        """A call target with import aliases undone: ('os', 'rename'), ('open',)."""
        parts = dotted(func)
        if not parts:
            return ()
        if len(parts) == 1 and parts[0] in self.imported:
            return self.imported[parts[0]]
        if parts[0] in self.aliases:
            return (self.aliases[parts[0]], *parts[1:])
        return parts

    # -- imports (W2, aliases) ---------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for item in node.names:
            root = item.name.split('.')[0]
            if root in POSIX_MODULES:
                self.report(node, 'W2', f'imports {item.name}, which Windows does not have')
            self.aliases[item.asname or root] = item.name if item.asname else root
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ''
        if module.split('.')[0] in POSIX_MODULES:
            self.report(node, 'W2', f'imports from {module}, which Windows does not have')
        for item in node.names:
            self.imported[item.asname or item.name] = (module, item.name)
            if item.name in POSIX_NAMES.get(module, ()):
                self.report(node, 'W2', f'{module}.{item.name} does not exist on Windows')
            if (module, item.name) == ('os', 'rename'):
                self.report(node, 'W3', 'os.rename fails on Windows when the target exists: '
                                        'use os.replace')
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts = self.resolve(node)
        if len(parts) == 2 and parts[1] in POSIX_NAMES.get(parts[0], ()):
            self.report(node, 'W2', f'{parts[0]}.{parts[1]} does not exist on Windows')
        self.generic_visit(node)

    # -- calls (W1, W2, W3, W4, W6) ----------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        target = self.resolve(node.func)
        if not has_star_kwargs(node):
            self.check_encoding(node, target)
        self.check_rename(node, target)
        self.check_fork_context(node, target)
        self.check_slash_join(node)
        self.check_csv(node, target)
        self.generic_visit(node)

    def text_open(self, node: ast.Call, target: tuple[str, ...]):
        """(mode, encoding position, newline position) when the call opens a file, else None."""
        if target in (('open',), ('io', 'open'), ('os', 'fdopen')):
            return argument(node, 1, 'mode'), 3, 5
        if target and target[-1] in TEMPFILES:
            mode = argument(node, 0, 'mode')
            return (mode, 2, 3) if mode is not None else None  # default mode is binary
        if isinstance(node.func, ast.Attribute) and node.func.attr == 'open':
            first = node.args[0] if node.args else None
            if first is None or (isinstance(literal(first), str) and MODE.match(first.value)):
                return argument(node, 0, 'mode'), 2, 4  # Path.open(mode, buffering, encoding)
        return None

    def check_encoding(self, node: ast.Call, target: tuple[str, ...]) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr in ('read_text', 'write_text'):
            position = 0 if node.func.attr == 'read_text' else 1
            if argument(node, position, 'encoding') is None:
                self.report(node, 'W1', f'{node.func.attr}() without encoding= (cp1252 on Windows)')
            return
        if target[-1:] == ('TextIOWrapper',) and argument(node, 1, 'encoding') is None:
            self.report(node, 'W1', 'TextIOWrapper without encoding= (cp1252 on Windows)')
            return
        opened = self.text_open(node, target)
        if opened is None:
            return
        mode, encoding_position, _newline = opened
        mode_text = literal(mode) if mode is not None else 'r'
        if isinstance(mode_text, str) and 'b' in mode_text:
            return
        if argument(node, encoding_position, 'encoding') is None:
            self.report(node, 'W1', 'text file opened without encoding= (cp1252 on Windows)')

    def check_rename(self, node: ast.Call, target: tuple[str, ...]) -> None:
        if target == ('os', 'rename'):
            self.report(node, 'W3', 'os.rename fails on Windows when the target exists: '
                                    'use os.replace')
        elif (isinstance(node.func, ast.Attribute) and node.func.attr == 'rename'
              and target[:1] != ('os',) and len(node.args) == 1 and not node.keywords):
            self.report(node, 'W3', 'Path.rename fails on Windows when the target exists: '
                                    'use Path.replace')

    def check_fork_context(self, node: ast.Call, target: tuple[str, ...]) -> None:
        if target[-1:] and target[-1] in ('get_context', 'set_start_method') and node.args \
                and literal(node.args[0]) in ('fork', 'forkserver'):
            self.report(node, 'W2', f'multiprocessing start method {node.args[0].value!r} '
                                    'does not exist on Windows')

    def check_slash_join(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and literal(func.value) in SLASHES:
            if func.attr == 'join' and any(is_pathish(n) for arg in node.args
                                           for n in ast.walk(arg)):
                self.report(node, 'W4', 'path joined with a slash string: use pathlib')
            return
        if isinstance(func, ast.Attribute) and func.attr == 'format' \
                and isinstance(literal(func.value), str) \
                and any(s in func.value.value for s in SLASHES) \
                and any(is_pathish(arg) for arg in node.args):
            self.report(node, 'W4', 'path formatted with a slash string: use pathlib')

    def check_csv(self, node: ast.Call, target: tuple[str, ...]) -> None:
        if target[:1] == ('csv',) and target[-1] in CSV_USERS and node.args:
            handle = node.args[0]
            unsafe = (isinstance(handle, ast.Name) and handle.id in self.no_newline) or (
                isinstance(handle, ast.Call) and self.opens_without_newline(handle))
            if unsafe:
                self.report(node, 'W6', f'csv.{target[-1]} on a text file opened without '
                                        "newline='' (doubled line ends on Windows)")

    def opens_without_newline(self, call) -> bool:
        if not isinstance(call, ast.Call) or has_star_kwargs(call):
            return False
        target = self.resolve(call.func)
        if target[-1:] == ('TextIOWrapper',):
            return argument(call, 3, 'newline') is None
        opened = self.text_open(call, target)
        if opened is None:
            return False
        mode = literal(opened[0]) if opened[0] is not None else 'r'
        if isinstance(mode, str) and 'b' in mode:
            return False
        return argument(call, opened[2], 'newline') is None

    # -- string building (W4) ----------------------------------------------------------------
    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Add):
            pieces = self.flatten_add(node)
            slash = any(isinstance(literal(p), str)
                        and (literal(p).startswith(SLASHES) or literal(p).endswith(SLASHES))
                        for p in pieces)
            if slash and any(is_pathish(p) for p in pieces if literal(p) is None):
                self.report(node, 'W4', 'path glued with a slash string: use pathlib')
                return  # one finding for the whole chain
        elif isinstance(node.op, ast.Mod) and isinstance(literal(node.left), str) \
                and any(s in node.left.value for s in SLASHES):
            values = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            if any(is_pathish(v) for v in values):
                self.report(node, 'W4', 'path formatted with a slash string: use pathlib')
        self.generic_visit(node)

    @staticmethod
    def flatten_add(node) -> list:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return Checker.flatten_add(node.left) + Checker.flatten_add(node.right)
        return [node]

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        values = node.values
        for index, part in enumerate(values):
            if not (isinstance(part, ast.FormattedValue) and is_pathish(part.value)):
                continue
            after = values[index + 1] if index + 1 < len(values) else None
            before = values[index - 1] if index else None
            if (isinstance(literal(after), str) and after.value.startswith(SLASHES)) or \
                    (isinstance(literal(before), str) and before.value.endswith(SLASHES)):
                self.report(node, 'W4', 'path built in an f-string with a slash: use pathlib')
                break
        self.generic_visit(node)

    # -- with blocks (W5, W6) ----------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        if self.opens_without_newline(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.no_newline.add(target.id)
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        holds_file = False
        for item in node.items:
            call = item.context_expr
            if isinstance(call, ast.Call):
                target = self.resolve(call.func)
                if self.text_open(call, target) is not None or target[-1:] and target[-1] in TEMPFILES:
                    holds_file = True  # binary temporary files too
                if isinstance(item.optional_vars, ast.Name) and self.opens_without_newline(call):
                    self.no_newline.add(item.optional_vars.id)
        if holds_file:
            for statement in node.body:
                for inner in walk_same_function(statement):
                    if isinstance(inner, ast.Call) and self.moves_a_file(inner):
                        self.report(inner, 'W5', 'file moved or deleted while the with block '
                                                 'still holds it open (refused on Windows)')
        self.generic_visit(node)

    def moves_a_file(self, call: ast.Call) -> bool:
        target = self.resolve(call.func)
        if target[:2] in MOVERS:
            return True
        if isinstance(call.func, ast.Attribute) and target[:1] not in (('os',), ('shutil',)):
            attr = call.func.attr
            return attr in ('unlink', 'rmdir') or (
                attr in ('rename', 'replace') and len(call.args) == 1 and not call.keywords)
        return False


def walk_same_function(node):
    """ast.walk that does not enter nested functions or classes (they run later)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            yield from walk_same_function(child)


def check_source(source: str, path: str = '<source>') -> list[Finding]:
    checker = Checker(path, source)
    checker.visit(ast.parse(source, filename=path))
    return sorted(checker.findings, key=lambda f: (f.line, f.rule))


def python_files(paths) -> list[Path]:
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob('*.py') if '__pycache__' not in p.parts)
        else:
            files.append(path)
    return files


def check_paths(paths) -> list[Finding]:
    findings = []
    for path in python_files(paths):
        findings += check_source(path.read_text(encoding='utf-8'), path.as_posix())
    return findings


def main(argv: list[str]) -> int:
    paths = argv or [str(Path(__file__).resolve().parent.parent / p) for p in DEFAULT_PATHS]
    files = python_files(paths)
    findings = check_paths(paths)
    for finding in findings:
        print(finding)
    print(f'Windows checks: {len(files)} files, {len(findings)} finding(s)'
          + ('' if not findings else ' (docs/deploy-iis.md "Windows specifics")'))
    return 1 if findings else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
