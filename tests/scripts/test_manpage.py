"""docs/pipeline.1 stays in sync with the binary: every command that `pipeline --help` lists, and every option
that `pipeline --help` and `pipeline COMMAND --help` print, appears in the page; groff renders it without a
warning."""

import os
import re
import shutil
import subprocess
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = os.environ.get("PIPELINE_BIN", str(ROOT / "build" / "pipeline"))
PAGE = ROOT / "docs" / "pipeline.1"
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def help_text(*args):
    result = subprocess.run([PIPELINE, *args, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def commands():
    """The subcommands `pipeline --help` lists under SUBCOMMANDS."""
    text = help_text()
    section = re.split(r"(?im)^subcommands:$", text, maxsplit=1)[1].split("\n\n", 1)[0]
    return [m.group(1) for m in re.finditer(r"^\s+([a-z]+)\s", section, re.M)]


def options(text):
    """The options a --help text defines (the option column of its OPTIONS sections)."""
    found = set()
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("-"):
            found.update(OPTION.findall(stripped.split("  ", 1)[0]))
    return found


class ManPageTest(unittest.TestCase):
    def setUp(self):
        # In roff a minus is written \- ; the reader sees -.
        self.page = PAGE.read_text().replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "")

    def test_every_command_has_its_entry(self):
        names = commands()
        self.assertEqual(sorted(names), ["cat", "gc", "run", "status", "stop", "verify"])
        for name in names:
            self.assertRegex(self.page, rf"(?m)^\.B {name}\b", f"no .B {name} entry under COMMANDS")

    def test_every_option_in_help_is_in_the_page(self):
        for args in [()] + [(name,) for name in commands()]:
            found = options(help_text(*args))
            self.assertTrue(found, args)
            for option in sorted(found):
                self.assertRegex(self.page, rf"(?<![\w-]){re.escape(option)}(?![\w-])",
                                 f"{option} (pipeline {' '.join(args)} --help) is not in docs/pipeline.1")

    def test_exit_codes_and_sections(self):
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS", "FILES",
                        "ENVIRONMENT", "EXAMPLES"):
            self.assertRegex(self.page, rf"(?m)^\.SH \"?{section}\"?$")
        for code in ("0", "1", "2", "3", "4", "5", "130"):
            self.assertRegex(self.page, rf"(?m)^\.B {code}$")

    @unittest.skipIf(shutil.which("groff") is None, "groff is not installed")
    def test_groff_renders_without_warnings(self):
        result = subprocess.run(["groff", "-man", "-ww", "-z", str(PAGE)], capture_output=True, text=True)
        self.assertEqual((result.returncode, result.stderr), (0, ""))


if __name__ == "__main__":
    unittest.main()
