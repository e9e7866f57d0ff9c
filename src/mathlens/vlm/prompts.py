"""The prompts and answers of the four Uni-MuMER training tasks, as LLaMA-Factory messages.

The wording of vanilla recognition, Tree-CoT and symbol counting is Uni-MuMER's own (its
preprocessing scripts, BFlameSwift/Uni-MuMER `preprocess/`), with the kind of picture said when
it is known; the error-driven prompts are ours, in the same manner (that preprocessing builds
only the tree and counting data, and Uni-MuMER's error-driven wording was not at hand). Every answer
ends with the LaTeX on its own last line, space-separated canonical tokens as the CROHME
captions write them (`\\frac { a } { b }`), so one parser reads the answer of every task.
docs/vlm.md ("Building the training data") shows each prompt with an example.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from mathlens.vlm.answers import format_counts, reading_errors, symbol_counts, tree_lines

Task = Literal["vanilla", "tree_cot", "error_driven", "counting"]
TASKS: tuple[Task, ...] = ("vanilla", "tree_cot", "error_driven", "counting")
Kind = Literal["handwritten", "printed", ""]  # "": not known, the prompt says neither

IMAGE_TOKEN = "<image>"  # LLaMA-Factory's placeholder: one per entry of `images`
VANILLA = "Please write out the expression of the formula in the image using LaTeX format."
TREE_COT = ("Please generate the abstract syntax tree (AST) of the formula in the image, and then provide its "
            "corresponding LaTeX format.")
COUNTING = ("Please identify and count each distinct visible mathematical symbol in the image, and then provide "
            "its corresponding LaTeX format.")
ERROR_FIND = ("Here is a LaTeX reading of the formula in the image, which may contain errors:\n{reading}\n"
              "Please find the errors in the reading (the symbols that are wrong, extra or missing), and then "
              "provide the correct LaTeX format.")
ERROR_FIX = ("Here is a LaTeX reading of the formula in the image, which contains errors:\n{reading}\n"
             "Please correct it: write out the expression of the formula in the image using LaTeX format.")
Message = dict[str, str]


def opening(kind: Kind) -> str:
    """`I have an image of a handwritten mathematical expression.` (Uni-MuMER's first sentence)."""
    return f"I have an image of a {kind + ' ' if kind else ''}mathematical expression."


def conversation(kind: Kind, request: str, answer: str) -> list[Message]:
    """One user turn (the image first) and the assistant's answer, in LLaMA-Factory's role/content form."""
    return [{"role": "user", "content": f"{IMAGE_TOKEN}{opening(kind)} {request}"},
            {"role": "assistant", "content": answer}]


def latex_line(tokens: Sequence[str]) -> str:
    return " ".join(tokens)


def vanilla(tokens: Sequence[str], kind: Kind) -> list[Message]:
    return conversation(kind, VANILLA, latex_line(tokens))


def tree_cot(tokens: Sequence[str], kind: Kind) -> list[Message]:
    """The tree (answers.tree_lines), then the LaTeX."""
    return conversation(kind, TREE_COT, "\n".join([*tree_lines(tokens), latex_line(tokens)]))


def counting(tokens: Sequence[str], kind: Kind) -> list[Message]:
    """`symbol: count, ...` on one line, then the LaTeX."""
    return conversation(kind, COUNTING, f"{format_counts(symbol_counts(tokens))}\n{latex_line(tokens)}")


def error_find(tokens: Sequence[str], reading: Sequence[str], kind: Kind) -> list[Message]:
    """A wrong reading in the prompt; the answer names its errors, one a line, then the right LaTeX."""
    answer = "\n".join([*reading_errors(reading, tokens), latex_line(tokens)])
    return conversation(kind, ERROR_FIND.format(reading=latex_line(reading)), answer)


def error_fix(tokens: Sequence[str], reading: Sequence[str], kind: Kind) -> list[Message]:
    """A wrong reading in the prompt; the answer is the right LaTeX."""
    return conversation(kind, ERROR_FIX.format(reading=latex_line(reading)), latex_line(tokens))
