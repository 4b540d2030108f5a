"""Runs every console block of the docs against a real `wrapup serve --demo` and compares what
each command prints with what the docs show, like trycmd does for CLI transcripts.

Usage: python3 .ci/docs_blocks.py WRAPUP_BIN README.md docs/*.md

A console block is a fenced block with the info string `console`: lines `$ command` (continued
by lines starting with `> `), each followed by the output it must print (stdout and stderr,
interleaved as in a terminal). For each file the runner starts a server of its own (`wrapup
serve --demo`, a new SQLite database, a free port) and one bash session, in a new directory,
that runs every block of the file in order: variables set by one command are seen by the next.
The session has `wrapup` (WRAPUP_BIN) first on its PATH, WRAPUP_URL pointing at the server and
the demo client's credentials in WRAPUP_CLIENT_ID / WRAPUP_CLIENT_SECRET, as the docs tell the
reader to export them; HOME is the session's directory, so no profile of yours is read.

What differs on every run is normalised on both sides before comparing (see VARIABLE): random
ids, times, durations, ports, webhook secrets and message ids. An id or secret the docs show in
an output and then use in a later command (`wrapup webhooks test 5b1f…` after `wrapup webhooks
create` printed 5b1f…) is replaced by the one the command really printed, as a reader would.
The docs' server address (http://127.0.0.1:8080) becomes the runner's, and 127.0.0.1:8000
(and `--port 8000`: where docs/webhooks.md's receiver listens) a free port; both are written
back in what the commands print. A line `...` in an expected output matches any
number of lines; `^C` marks where a background command is stopped.

An HTML comment on its own line just before a block tells the runner more about it; each is
visible in the markdown source, and the runner prints what it skipped and why:

    <!-- ci: skip REASON -->           the next console block is not run (REASON is printed)
    <!-- ci: script -->                the next block (```sh) runs as one script; what it prints
                                       must be the first ```text block after it
    <!-- ci: file NAME -->             the next block is saved as NAME in the session's directory
    <!-- ci: background NAME until TEXT -->
                                       the next console block's one command runs in the
                                       background ("in another shell", with the session's
                                       exported variables); the runner goes on once its output
                                       contains TEXT
    <!-- ci: stop NAME -->             Ctrl-C to NAME, once it printed as many lines as its
                                       block shows before `^C`; then its output is compared
    <!-- ci: eventually -->            the next console block's commands are run again until
                                       what they print matches (for what is asynchronous, such
                                       as a delivery log), for 15 s at most
    <!-- ci: needs genesys-sdk -->     the file's session has the pinned Genesys Cloud Python
                                       SDK (.ci/genesys-sdks --install) as its python3

A background command still running at the end of its file is stopped and compared then.
The runner exits non-zero if any block differs, with a diff of the normalised outputs; in a
file, the blocks after the first difference are not run (they would mostly differ because of
it), unless DOCS_BLOCKS_KEEP_GOING is set (to see every difference when writing docs).
"""

import difflib
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS_URL = "http://127.0.0.1:8080"
DOCS_RECEIVER = "127.0.0.1:8000"
DEMO_CLIENT_ID = "00000000-0000-4000-8000-00000000d001"
DEMO_CLIENT_SECRET = "demo-secret-not-for-production"
COMMAND_TIMEOUT = 90
EVENTUALLY = 15
STOP_WAIT = 30

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The demo's fixed ids (00000000-0000-4000-8000-…) are kept; any other id is random.
RANDOM_ID = re.compile(rf"\b(?!00000000-0000-4000-8000-){UUID}\b")
SECRET = re.compile(r"\bwhsec_[A-Za-z0-9+/]+=*")
# Values the docs may show in an output and then use in a later command.
LEARNED = [RANDOM_ID, SECRET]

# What differs between runs, and what it becomes in both outputs.
VARIABLE = [
    (re.compile(r"\bmsg_[0-9a-f]{32}_test_[0-9A-Za-z]+"), "msg_<endpoint>_test_<n>"),
    (re.compile(r"\bmsg_[0-9a-f]{32}_"), "msg_<endpoint>_"),
    (RANDOM_ID, "<id>"),
    (SECRET, "whsec_<secret>"),
    (re.compile(r"\bwu_[A-Za-z0-9_-]{20,}"), "wu_<token>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"\b\d+(\.\d+)? (ms|s)\b"), "<n> \\2"),
    (re.compile(r'"retryAfterMs":\d+'), '"retryAfterMs":<n>'),
    (re.compile(r"\(\d+/s\)"), "(<n>/s)"),
    # What the Genesys Cloud Python SDK prints of a wrap-up (docs/genesys.md).
    (re.compile(r"datetime\.datetime\([^)]*\)\)?"), "datetime.datetime(<time>)"),
    (re.compile(r"'duration_seconds': \d+"), "'duration_seconds': <n>"),
    (re.compile(r"^(retry-after): \d+$", re.IGNORECASE | re.MULTILINE), r"\1: <n>"),
    # Ports other than the docs' server (8080) and receiver (8000): picked by the system.
    (re.compile(r"\b127\.0\.0\.1:(?!8080\b|8000\b)\d+"), "127.0.0.1:<port>"),
]

DIRECTIVE = re.compile(r"^<!--\s*ci:\s*(.*?)\s*-->\s*$")


class Failure(Exception):
    pass


@dataclass
class Block:
    line: int  # of the opening fence, 1-based
    info: str
    text: str
    directives: list = field(default_factory=list)


def parse(markdown: str):
    """Fenced blocks and standalone directives, in order: ("block", Block) or ("directive", line, text)."""
    out, pending = [], []
    fence, info, start, lines = None, "", 0, []
    for n, line in enumerate(markdown.splitlines(), 1):
        if fence is None:
            m = DIRECTIVE.match(line.strip())
            if m:
                pending.append((n, m.group(1)))
                continue
            stripped = line.lstrip()
            if stripped.startswith("```") or stripped.startswith("~~~"):
                fence = stripped[:3]
                info, start, lines = stripped[3:].strip(), n, []
            elif line.strip() and pending:
                # Prose between a directive and its block: the directive stands alone.
                out.extend(("directive", ln, d) for ln, d in pending)
                pending = []
        elif line.lstrip().startswith(fence):
            out.append(("block", Block(start, info, "\n".join(lines) + "\n", [d for _, d in pending])))
            fence, pending = None, []
        else:
            lines.append(line)
    out.extend(("directive", ln, d) for ln, d in pending)
    return out


def commands(text: str):
    """[(command, expected output)] of a console block."""
    out = []
    for line in text.splitlines():
        if line.startswith("$ ") or line == "$":
            out.append([line[2:], []])
        elif out and line.startswith("> ") and not out[-1][1]:
            out[-1][0] += "\n" + line[2:]
        elif out:
            out[-1][1].append(line)
        elif line.strip():
            raise Failure(f"a console block must start with `$ command`, not {line!r}")
    return [(cmd, "\n".join(lines)) for cmd, lines in out]


def normalise(text: str) -> list:
    for pattern, replacement in VARIABLE:
        text = pattern.sub(replacement, text)
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def match(expected: list, actual: list):
    """Pairs of (expected index, actual index) of matching lines, or None; `...` matches any lines."""
    memo = {}

    def go(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(expected):
            result = [] if j == len(actual) else None
        elif expected[i] == "...":
            result = None
            for k in range(j, len(actual) + 1):
                rest = go(i + 1, k)
                if rest is not None:
                    result = rest
                    break
        elif j < len(actual) and expected[i] == actual[j]:
            rest = go(i + 1, j + 1)
            result = None if rest is None else [(i, j)] + rest
        else:
            result = None
        memo[(i, j)] = result
        return result

    return go(0, 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`wrapup serve --demo` on a free port over a new SQLite database in `workdir`."""

    def __init__(self, binary: str, workdir: Path):
        self.log = workdir / "serve.log"
        env = dict(os.environ, WRAPUP_LOG=os.environ.get("WRAPUP_LOG", "warn"))
        for name in ("WRAPUP_DB", "WRAPUP_CHAOS", "WRAPUP_RATE_LIMIT"):
            env.pop(name, None)
        with open(self.log, "wb") as log, open(workdir / "serve.out", "wb") as out:
            self.proc = subprocess.Popen(
                [binary, "serve", "--demo", "--listen", "127.0.0.1:0", "--db", f"sqlite://{workdir}/wrapup.db"],
                stdout=out,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            m = re.search(r"^wrapup listening on (http://\S+)", self.log.read_text(errors="replace"), re.MULTILINE)
            if m:
                self.url = m.group(1)
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise Failure("wrapup serve --demo did not start:\n" + self.log.read_text(errors="replace"))
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Session:
    """One bash process running a file's commands in order, in `workdir`; the runner's own files
    (each command, its output) are kept in `control`, out of the reader's sight."""

    def __init__(self, workdir: Path, control: Path, env: dict):
        self.dir, self.n = control, 0
        self.stderr = open(control / "session.stderr", "wb")
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=workdir,
            env=env,
            start_new_session=True,
        )
        self.buffer = b""

    def run(self, command: str, timeout: float = COMMAND_TIMEOUT) -> str:
        """What `command` prints (stdout and stderr), run with no standard input."""
        self.n += 1
        script, out = self.dir / f"{self.n}.sh", self.dir / f"{self.n}.out"
        script.write_text(command + "\n")
        # `$?` is kept from one command to the next (`$ echo $?` after a failing command).
        line = f". {shlex.quote(str(script))} </dev/null >{shlex.quote(str(out))} 2>&1; __rc=$?; echo __done__; (exit $__rc)\n"
        self.proc.stdin.write(line.encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while b"__done__\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise Failure(f"`{command}` did not finish within {timeout} s; it printed:\n" + out.read_text(errors="replace"))
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise Failure(f"the shell exited while running `{command}`:\n" + out.read_text(errors="replace"))
                self.buffer += chunk
        self.buffer = self.buffer.split(b"__done__\n", 1)[1]
        return out.read_text(errors="replace")

    def environment(self) -> tuple:
        """The session's exported variables and its directory (for a command "in another shell")."""
        dump = self.dir / ".env0"
        raw = self.run(f"env -0 > {shlex.quote(str(dump))}; pwd")
        env = {}
        for item in dump.read_bytes().split(b"\0"):
            if b"=" in item:
                k, v = item.decode(errors="replace").split("=", 1)
                env[k] = v
        return env, raw.strip()

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.stderr.close()


@dataclass
class Background:
    name: str
    line: int
    command: str
    expected: str
    proc: subprocess.Popen
    out: Path


class FileRun:
    def __init__(self, path: str, binary: str, base: Path):
        self.path, self.binary = path, binary
        self.dir = Path(tempfile.mkdtemp(prefix="docs-", dir=base))
        self.home, self.control = self.dir / "home", self.dir / "runner"
        self.home.mkdir()
        self.control.mkdir()
        self.learned = {}  # a value the docs show → the one really printed
        self.background = {}
        self.ran, self.commands, self.skipped, self.failures = 0, 0, [], []
        self.server = self.session = None
        self.not_run = 0

    # What a command runs, and what its output becomes, against this run's servers.
    def to_run(self, command: str) -> str:
        for shown, real in self.learned.items():
            command = command.replace(shown, real)
        command = command.replace(DOCS_URL, self.server.url)
        command = command.replace(DOCS_RECEIVER, f"127.0.0.1:{self.receiver_port}")
        return re.sub(r"--port 8000\b", f"--port {self.receiver_port}", command)

    def as_shown(self, output: str) -> str:
        output = output.replace(self.server.url, DOCS_URL)
        return output.replace(f"127.0.0.1:{self.receiver_port}", DOCS_RECEIVER)

    def compare(self, where: str, command: str, expected: str, actual: str, report: bool = True) -> bool:
        want, got = normalise(expected), normalise(self.as_shown(actual))
        pairs = match(want, got)
        if pairs is None:
            if report:
                diff = "\n".join(difflib.unified_diff(want, got, f"{where} (the docs)", "what it printed", lineterm=""))
                self.failures.append(f"{where}: `{command}` printed something else (normalised):\n{diff}")
            return False
        # Learn the values shown in the docs that this run printed differently.
        shown_lines, real_lines = expected.splitlines(), self.as_shown(actual).splitlines()
        for i, j in pairs:
            exp_line, act_line = self.raw_line(shown_lines, i), self.raw_line(real_lines, j)
            if exp_line is None or act_line is None:
                continue
            for pattern in LEARNED:
                shown, real = pattern.findall(exp_line), pattern.findall(act_line)
                if len(shown) != len(real):
                    continue
                for s, r in zip(shown, real):
                    if s != r and self.learned.get(s, r) != r:
                        self.failures.append(f"{where}: the docs show {s} for two different values ({self.learned[s]} and {r})")
                    elif s != r:
                        self.learned[s] = r
        return True

    @staticmethod
    def raw_line(raw: list, index: int):
        """The raw line behind normalised line `index` (normalising keeps lines but drops the blank ones at both ends)."""
        lines = [line.rstrip() for line in raw]
        start = 0
        while start < len(lines) and not lines[start].strip():
            start += 1
        k = start + index
        return lines[k] if k < len(lines) else None

    def run(self):
        markdown = (ROOT / self.path).read_text(encoding="utf-8")
        items = parse(markdown)
        blocks = [rest[0] for kind, *rest in items if kind == "block"]
        self.not_run = sum(1 for b in blocks if b.info in ("sh", "bash", "shell") and not b.directives)
        if not any(b.info == "console" or b.directives for b in blocks):
            return
        self.receiver_port = free_port()
        self.server = Server(self.binary, self.control)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WRAPUP_")}
        env.update(
            PATH=f"{Path(self.binary).parent}:{os.environ['PATH']}",
            HOME=str(self.home),
            WRAPUP_URL=self.server.url,
            WRAPUP_CLIENT_ID=DEMO_CLIENT_ID,
            WRAPUP_CLIENT_SECRET=DEMO_CLIENT_SECRET,
            NO_COLOR="1",
            TERM="dumb",
            LC_ALL="C.UTF-8",
        )
        env.pop("XDG_CONFIG_HOME", None)
        if any("needs genesys-sdk" in b.directives for b in blocks):
            env["PATH"] = f"{genesys_sdk()}:{env['PATH']}"
        self.session = Session(self.home, self.control, env)
        try:
            self.run_items(items)
            for name in list(self.background):
                self.stop(name, f"{self.path} (end)")
        finally:
            for bg in self.background.values():
                kill(bg.proc)
            self.session.close()
            self.server.stop()

    def run_items(self, items):
        pending_text = None  # (where, script, output) of a script block waiting for its ```text block
        for kind, *rest in items:
            if self.failures and not os.environ.get("DOCS_BLOCKS_KEEP_GOING"):
                # What follows a difference would mostly differ because of it.
                self.failures.append(f"{self.path}: the blocks after this difference were not run")
                return
            if kind == "directive":
                line, directive = rest
                where = f"{self.path}:{line}"
                verb, _, arg = directive.partition(" ")
                if verb == "stop":
                    self.stop(arg.strip(), where)
                else:
                    raise Failure(f"{where}: `<!-- ci: {directive} -->` stands alone; only `stop` may (the others come just before a block)")
                continue
            (block,) = rest
            where = f"{self.path}:{block.line}"
            if pending_text is not None and block.info == "text":
                swhere, script, output = pending_text
                pending_text = None
                self.ran += 1
                self.compare(swhere, "the script", block.text, output)
                continue
            directives = block.directives
            verbs = {d.partition(" ")[0]: d.partition(" ")[2] for d in directives}
            unknown = set(verbs) - {"skip", "script", "file", "background", "eventually", "needs"}
            if unknown:
                raise Failure(f"{where}: unknown directive(s) {sorted(unknown)}")
            if "skip" in verbs:
                if block.info != "console":
                    raise Failure(f"{where}: `ci: skip` is for console blocks (the others are not run)")
                self.skipped.append(f"line {block.line}: {verbs['skip'] or 'no reason given'}")
                continue
            if "file" in verbs:
                (self.home / verbs["file"]).write_text(block.text.replace(DOCS_URL, self.server.url))
            if "script" in verbs:
                output = self.session.run(self.to_run(block.text))
                pending_text = (where, block.text, output)
                continue
            if block.info != "console":
                continue
            if "background" in verbs:
                self.start_background(where, block, verbs["background"])
                continue
            self.ran += 1
            for command, expected in commands(block.text):
                self.commands += 1
                if "eventually" in verbs:
                    deadline = time.monotonic() + EVENTUALLY
                    while True:
                        actual = self.session.run(self.to_run(command))
                        late = time.monotonic() > deadline
                        if self.compare(where, command, expected, actual, report=late) or late:
                            break
                        time.sleep(0.3)
                else:
                    actual = self.session.run(self.to_run(command))
                    self.compare(where, command, expected, actual)
        if pending_text is not None:
            raise Failure(f"{pending_text[0]}: a `ci: script` block needs a ```text block after it (its output)")

    def start_background(self, where: str, block: Block, arg: str):
        m = re.fullmatch(r"(\S+) until (.+)", arg)
        if not m:
            raise Failure(f"{where}: write `<!-- ci: background NAME until TEXT -->`")
        name, ready = m.group(1), m.group(2).strip().strip('"')
        cmds = commands(block.text)
        if len(cmds) != 1:
            raise Failure(f"{where}: a background block has one command")
        command, expected = cmds[0]
        env, cwd = self.session.environment()
        out = self.control / f"background-{name}"
        with open(out, "wb") as f:
            proc = subprocess.Popen(
                ["bash", "-c", self.to_run(command)], stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                cwd=cwd, env=env, start_new_session=True,
            )
        self.background[name] = Background(name, block.line, command, expected, proc, out)
        self.ran += 1
        self.commands += 1
        deadline = time.monotonic() + STOP_WAIT
        while ready not in self.as_shown(out.read_text(errors="replace")):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"{where}: `{command}` did not print {ready!r}; it printed:\n" + out.read_text(errors="replace"))
            time.sleep(0.05)

    def stop(self, name: str, where: str):
        bg = self.background.pop(name, None)
        if bg is None:
            raise Failure(f"{where}: no background command named {name} is running")
        lines = bg.expected.splitlines()
        before = lines[: lines.index("^C")] if "^C" in lines else lines
        want = len(normalise("\n".join(l for l in before if l != "...")))
        deadline = time.monotonic() + STOP_WAIT
        while len(normalise(bg.out.read_text(errors="replace"))) < want and time.monotonic() < deadline:
            if bg.proc.poll() is not None:
                break
            time.sleep(0.1)
        try:
            os.killpg(bg.proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        try:
            bg.proc.wait(15)
        except subprocess.TimeoutExpired:
            kill(bg.proc)
            self.failures.append(f"{self.path}:{bg.line}: `{bg.command}` did not stop within 15 s of Ctrl-C")
        expected = "\n".join(l for l in lines if l != "^C")
        self.compare(f"{self.path}:{bg.line}", bg.command, expected, bg.out.read_text(errors="replace"))


def kill(proc: subprocess.Popen):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def genesys_sdk() -> str:
    """The bin directory of the pinned Genesys Cloud Python SDK's environment (installed if absent)."""
    venv = ROOT / "target/ci/genesys/venv"
    if not (venv / "bin/python").exists():
        subprocess.run(["bash", str(ROOT / ".ci/genesys-sdks"), "--install"], check=True, stdout=sys.stderr)
    return str(venv / "bin")


def self_test() -> None:
    """The runner's own rules, checked before it runs the docs (a runner that matched anything
    would pass every block)."""
    assert commands("$ a \\\n> b\nout\n$ c\n") == [("a \\\nb", "out"), ("c", "")]
    assert normalise("x 3f2b8c1d-4e5f-4a6b-9c7d-8e9f0a1b2c3d at 2026-11-30T08:30:12.481Z in 4 ms  \n") == [
        "x <id> at <time> in <n> ms"
    ]
    assert normalise("00000000-0000-4000-8000-0000000000e2") == ["00000000-0000-4000-8000-0000000000e2"]
    assert match(["a", "b"], ["a", "b"]) == [(0, 0), (1, 1)]
    assert match(["a", "b"], ["a", "c"]) is None
    assert match(["a"], ["a", "b"]) is None
    assert match(["a", "...", "d"], ["a", "b", "c", "d"]) == [(0, 0), (2, 3)]
    assert match(["..."], []) == []
    items = parse("<!-- ci: skip why -->\n```console\n$ x\n```\ntext\n<!-- ci: stop l -->\n\nprose\n")
    assert items[0][0] == "block" and items[0][1].directives == ["skip why"], items
    assert items[1] == ("directive", 6, "stop l"), items


def main() -> None:
    self_test()
    binary, files = str(Path(sys.argv[1]).resolve()), sys.argv[2:]
    base = Path(tempfile.mkdtemp(prefix="wrapup-ci-docs."))
    failed, totals = False, [0, 0, 0]
    try:
        for path in files:
            started = time.monotonic()
            run = FileRun(path, binary, base)
            try:
                run.run()
            except Failure as e:
                run.failures.append(str(e))
            took = time.monotonic() - started
            if run.ran or run.skipped or run.failures or run.not_run:
                print(
                    f"{path}: blocks run {run.ran} ({run.commands} commands), skipped {len(run.skipped)}"
                    f" ({took:.1f} s); ```sh blocks, which are not console blocks and are not run: {run.not_run}"
                )
            for s in run.skipped:
                print(f"  skipped {path} {s}")
            for f in run.failures:
                print(f"FAILED {f}")
            failed |= bool(run.failures)
            totals[0] += run.ran
            totals[1] += run.commands
            totals[2] += len(run.skipped)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"docs: blocks run {totals[0]} ({totals[1]} commands), skipped {totals[2]}")
    if failed:
        sys.exit(
            "the docs differ from what the commands print (above): change the docs, or the behaviour "
            "(.ci/docs_blocks.py says how blocks are run and normalised)"
        )


if __name__ == "__main__":
    main()
