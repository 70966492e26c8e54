"""Domain errors that carry the file and the dotted value path they concern."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem found in an input, printed as `file: $.path: message (hint)`."""

    path: str
    message: str
    hint: str = ""
    file: str = ""

    def format(self) -> str:
        location = f"{self.file}: " if self.file else ""
        if self.path.startswith("-") or self.path.isupper():
            # A command-line option or an environment variable, not a value path.
            dotted = self.path
        elif self.path.startswith("$"):
            dotted = self.path
        else:
            dotted = f"$.{self.path}" if self.path else "$"
        hint = f" ({self.hint})" if self.hint else ""
        return f"{location}{dotted}: {self.message}{hint}"


class GeneratorError(Exception):
    """An input the generator cannot use. Carries one or more problems."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(problem.format() for problem in self.problems))


class UsageError(GeneratorError):
    """A command line the CLI cannot act on (exit code 2)."""


class ToolError(Exception):
    """An external tool (helm, kubectl) is missing or failed in a way that is not the input's fault."""
