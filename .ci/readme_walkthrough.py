"""Runs the README's walkthrough against a server and compares its output with the README.

Usage: python3 .ci/readme_walkthrough.py README.md http://127.0.0.1:PORT

The walkthrough is the first ```sh block under the heading that contains "walkthrough",
and its expected output the first ```text block after it. The script's own server address
(http://127.0.0.1:8080) is replaced by the one given. Both outputs are normalised before
they are compared: see `normalise`.
"""

import difflib
import re
import subprocess
import sys

README_URL = "http://127.0.0.1:8080"


def blocks(markdown: str):
    """(heading, language, text) of every fenced block, in order."""
    heading, language, lines, out = "", None, [], []
    for line in markdown.splitlines():
        if language is None:
            if line.startswith("#"):
                heading = line
            elif line.startswith("```"):
                language, lines = line[3:].strip(), []
        elif line.startswith("```"):
            out.append((heading, language, "\n".join(lines) + "\n"))
            language = None
        else:
            lines.append(line)
    return out


def walkthrough(markdown: str):
    found = blocks(markdown)
    for i, (heading, language, text) in enumerate(found):
        if "walkthrough" in heading.lower() and language == "sh":
            for _, later_language, expected in found[i + 1 :]:
                if later_language == "text":
                    return text, expected
    sys.exit("README.md has no ```sh block under a walkthrough heading followed by a ```text block")


# What differs between runs, and what it becomes in both outputs.
VARIABLE = [
    # The demo's fixed ids (00000000-0000-4000-8000-…) are kept; any other id is random.
    (re.compile(r"\b(?!00000000-0000-4000-8000-)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"in about \d+ ms"), "in about <n> ms"),
    (re.compile(r'"retryAfterMs":\d+'), '"retryAfterMs":<n>'),
    (re.compile(r"^(retry-after): \d+$", re.IGNORECASE | re.MULTILINE), r"\1: <n>"),
]


def normalise(text: str) -> str:
    for pattern, replacement in VARIABLE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def main() -> None:
    readme, url = sys.argv[1], sys.argv[2]
    with open(readme, encoding="utf-8") as f:
        script, expected = walkthrough(f.read())
    if README_URL not in script:
        sys.exit(f"the walkthrough no longer talks to {README_URL}; update .ci/readme_walkthrough.py")
    run = subprocess.run(
        ["bash", "-c", script.replace(README_URL, url)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if run.returncode != 0 or run.stderr.strip():
        sys.exit(f"the walkthrough failed (exit {run.returncode}):\n{run.stderr}")
    want, got = normalise(expected), normalise(run.stdout)
    if want != got:
        diff = difflib.unified_diff(
            want.splitlines(), got.splitlines(), "README.md (expected)", "the server (actual)", lineterm=""
        )
        print("\n".join(diff))
        sys.exit(
            "README.md's walkthrough output differs from what the server prints: "
            "update the ```text block of README.md, or the behaviour."
        )


if __name__ == "__main__":
    main()
