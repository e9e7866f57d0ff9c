"""Reading order and Markdown from constructed boxes: the layout logic is pure geometry."""

from __future__ import annotations

import pytest

from mathlens.pages.order import assemble, inline_markdown
from mathlens.pages.types import Block, Box, TextLine, Word

H = 10.0  # body word height; a character is 0.6 H wide


def line(text: str, x0: float, y: float, x1: float | None = None, h: float = H) -> TextLine:
    """A line of words from x0 at height y, spaces 0.4 H; with x1 the letters widen or narrow to end there."""
    words, space = text.split(), 0.4 * h
    char = 0.6 * h if x1 is None else (x1 - x0 - space * (len(words) - 1)) / sum(len(w) for w in words)
    if not 0.4 * h <= char <= 0.8 * h:
        raise ValueError(f"{text!r} does not fit from {x0} to {x1}")
    out, x = [], x0
    for w in words:
        out.append(Word(w, Box(x, y, x + char * len(w), y + h)))
        x += char * len(w) + space
    return TextLine(text, Box(x0, y, out[-1].box.x1, y + h), tuple(out))


def paragraph(texts: list[str], x0: float, y0: float, x1: float, pitch: float = 14.0,
              indent: float = 0.0) -> list[TextLine]:
    """Justified lines, the last one ragged, the first one indented by `indent`."""
    return [line(t, x0 + (indent if i == 0 else 0.0), y0 + i * pitch, None if i == len(texts) - 1 else x1)
            for i, t in enumerate(texts)]


def inline(latex: str, x0: float, x1: float, y: float) -> Block:
    return Block("inline_formula", Box(x0, y - 1, x1, y + H + 1), latex=latex)


def display(latex: str, box: Box) -> Block:
    return Block("display_formula", box, latex=latex)


LEFT_A = ["Column text starts at the top of the", "left column and runs down the page in",
          "short lines."]
LEFT_B = ["A second paragraph opens with an", "indent and ends on the left side."]
RIGHT_C = ["The right column is read only after", "the whole left column has been read,",
           "top to bottom."]


def two_columns(right_offset: float = 0.0) -> list[TextLine]:
    title = [line("A Title", 250, 10, h=18)]
    left = paragraph(LEFT_A, 50, 60, 290) + paragraph(LEFT_B, 50, 102, 290, indent=15)
    right = paragraph(RIGHT_C, 310, 60 + right_offset, 550)
    footer = [line("7", 297, 400)]
    return title + left + right + footer


@pytest.mark.parametrize("right_offset", [0.0, 7.0])  # rows aligned across the gutter, and half a line off
def test_two_columns_are_read_left_then_right(right_offset: float):
    blocks, markdown = assemble(two_columns(right_offset), [])
    assert markdown == "\n\n".join([
        "# A Title", " ".join(LEFT_A), " ".join(LEFT_B), " ".join(RIGHT_C), "7"]) + "\n"
    assert [b.type for b in blocks] == ["text"] * 5
    assert blocks[1].box == Box(50, 60, 290, 60 + 2 * 14 + H)


def test_corner_page_number_of_two_columns_stays_last():
    lines = [ln for ln in two_columns() if ln.text != "7"] + [line("7", 40, 400)]
    _, markdown = assemble(lines, [])
    assert markdown.endswith(" ".join(RIGHT_C) + "\n\n7\n")


def test_one_column_footer_and_paragraph_gap():
    body = paragraph(["One column of text that fills the whole line from", "margin to margin."], 50, 60, 350)
    body += paragraph(["After a blank gap another paragraph starts here."], 50, 110, 350)
    _, markdown = assemble(body + [line("12", 294, 780)], [])
    assert markdown == ("One column of text that fills the whole line from margin to margin.\n\n"
                        "After a blank gap another paragraph starts here.\n\n12\n")


def test_paragraph_breaks_after_a_short_line_without_gap_or_indent():
    lines = paragraph(["first paragraph runs across the full width of", "the column."], 50, 60, 350)
    lines += paragraph(["second paragraph follows at the same spacing", "as the lines."], 50, 88, 350)
    _, markdown = assemble(lines, [])
    assert markdown.split("\n\n") == ["first paragraph runs across the full width of the column.",
                                      "second paragraph follows at the same spacing as the lines.\n"]


def test_inline_formula_between_words_and_before_a_comma():
    words = [Word("let", Box(50, 60, 68, 70)), Word(",", Box(82, 60, 85, 70)),
             Word("then", Box(91, 60, 115, 70)), Word("holds.", Box(121, 60, 157, 70))]
    lines = [TextLine("let", Box(50, 60, 68, 70), words[:1]), TextLine(", then holds.", Box(82, 60, 157, 70), words[1:])]
    blocks, markdown = assemble(lines, [inline("x", 74, 81, 60)])
    assert markdown == "let $x$, then holds.\n"
    assert blocks[0].text == "let $x$, then holds." and blocks[0].box == Box(50, 59, 157, 71)


def test_tall_inline_formula_stays_in_its_line():
    lines = [line("where the ratio", 50, 60), line("is small when the length is large", 164, 60, 350),
             line("and the next line follows.", 50, 74)]
    frac = Block("inline_formula", Box(140, 53, 160, 77), latex=r"\frac{a}{b}")
    _, markdown = assemble(lines, [frac])
    assert markdown == "where the ratio $\\frac{a}{b}$ is small when the length is large and the next line follows.\n"


@pytest.mark.parametrize("number, tag", [(["(3)"], "3"), (["(2.1)"], "2.1"), (["(", "A.4", ")"], "A.4")])
def test_display_formula_takes_its_equation_number(number: list[str], tag: str):
    before = line("we have", 50, 60)
    after = line("where E is energy.", 50, 130)
    x, words = 510.0, []
    for t in number:
        words.append(Word(t, Box(x, 90, x + 6 * len(t), 100)))
        x += 6 * len(t) + 1
    eqno = TextLine(" ".join(number), Box(510, 90, x, 100), tuple(words))
    blocks, markdown = assemble([before, eqno, after], [display("E=mc^2", Box(250, 80, 350, 110))])
    assert markdown == f"we have\n\n$$E=mc^2 \\tag{{{tag}}}$$\n\nwhere E is energy.\n"
    assert [b.type for b in blocks] == ["text", "display_formula", "text"]
    assert blocks[1].latex == "E=mc^2"


def test_display_formula_without_number_keeps_other_text():
    lines = [line("we have", 50, 60), line("(see below)", 500, 90), line("so it is.", 50, 130)]
    _, markdown = assemble(lines, [display("a=b", Box(250, 80, 350, 110))])
    assert "$$a=b$$" in markdown and "(see below)" in markdown and "tag" not in markdown


def test_hyphenated_word_is_joined_only_before_lowercase():
    lines = paragraph(["the integral of this kind of form is then an equa-", "tion we can solve."], 50, 60, 350)
    _, markdown = assemble(lines, [])
    assert markdown == "the integral of this kind of form is then an equation we can solve.\n"
    lines = paragraph(["the integral of this kind of form is called Navier-", "Stokes by most."], 50, 60, 350)
    _, markdown = assemble(lines, [])
    assert markdown == "the integral of this kind of form is called Navier- Stokes by most.\n"


def test_headings_by_text_height():
    lines = [line("Big Title", 50, 10, h=18), line("1 Introduction", 50, 50, h=14)]
    lines += paragraph(["Body text follows right below the heading and", "ends here."], 50, 72, 350)
    lines += [line("1.1 Scope", 50, 110, h=14)] + paragraph(["More body text."], 50, 130, 350)
    _, markdown = assemble(lines, [])
    assert markdown.split("\n\n") == ["# Big Title", "## 1 Introduction",
                                      "Body text follows right below the heading and ends here.",
                                      "## 1.1 Scope", "More body text.\n"]


def test_second_heading_size_is_not_a_title_below_threshold():
    lines = [line("Section", 50, 10, h=14)] + paragraph(["Body text here."], 50, 40, 350)
    _, markdown = assemble(lines, [])
    assert markdown == "## Section\n\nBody text here.\n"


def test_figure_drops_its_text_and_keeps_the_caption():
    lines = paragraph(["Text above the figure."], 50, 20, 350)
    lines += [line("axis label", 200, 120), line("Figure 1: A plot of things.", 200, 265)]
    regions = [Block("figure", Box(100, 50, 500, 250))]
    blocks, markdown = assemble(lines, [], regions)
    assert markdown == "Text above the figure.\n\n![figure]()\n\nFigure 1: A plot of things.\n"
    assert [b.type for b in blocks] == ["text", "figure", "text"]


def test_table_text_is_one_paragraph():
    cells = [line("a", 100, 60), line("b", 300, 60), line("c", 100, 80), line("d", 300, 80)]
    lines = paragraph(["Before the table."], 50, 20, 350) + cells + paragraph(["After it."], 50, 120, 350)
    blocks, markdown = assemble(lines, [], [Block("table", Box(90, 55, 400, 95))])
    assert markdown == "Before the table.\n\na b c d\n\nAfter it.\n"
    assert blocks[1].type == "table" and blocks[1].text == "a b c d"


def test_paragraph_continues_across_a_column_break():
    left = paragraph(["A sentence that does not end at the", "bottom of the column but carries on"], 50, 60, 290)
    left[-1] = line("bottom of the column but carries on", 50, 74, 290)  # a full last line
    right = paragraph(["at the top of the next one.", ""][:1], 310, 60, 550)
    right += paragraph(["A new paragraph in the right column", "starts with an indent."], 310, 88, 550, indent=15)
    right += paragraph(["And a third one follows."], 310, 130, 550)
    _, markdown = assemble(left + right, [])
    assert markdown.split("\n\n")[0] == ("A sentence that does not end at the bottom of the column but carries on "
                                         "at the top of the next one.")
    assert len(markdown.split("\n\n")) == 3


def test_empty_page():
    assert assemble([], []) == ([], "")


@pytest.mark.parametrize(("latex", "markdown"), [("d=\\gcd(a,b),", "$d=\\gcd(a,b)$,"), ("Q3-Q1;", "$Q3-Q1$;"),
                                                 ("x^{2} .", "$x^{2}$."), ("x\\;", "$x\\;$"),
                                                 ("a_1,\\dots", "$a_1,\\dots$")])
def test_punctuation_an_inline_box_took_in_goes_after_the_formula(latex, markdown):
    assert inline_markdown(latex) == markdown
