import pytest

from mathlens.errors import LatexSyntaxError
from mathlens.tokenizer.lexer import detokenize, tokenize


def test_commands_characters_and_environments_are_tokens():
    assert tokenize(r"\frac{a}{b}") == ["\\frac", "{", "a", "}", "{", "b", "}"]
    assert tokenize(r"\begin{array}{cc}x\end{array}")[:2] == ["\\begin{array}", "{"]
    assert tokenize(r"x\,y\\z") == ["x", "\\,", "y", "\\\\", "z"]


def test_spaces_only_matter_inside_text():
    assert tokenize("a + b") == ["a", "+", "b"]
    assert tokenize(r"\text{if x}") == ["\\text", "{", "i", "f", "\\ ", "x", "}"]


def test_comments_are_dropped():
    assert tokenize("a % comment\n+b") == ["a", "+", "b"]


def test_trailing_backslash_is_a_syntax_error():
    with pytest.raises(LatexSyntaxError):
        tokenize("x\\")


@pytest.mark.parametrize("latex", [r"\alpha x", r"\frac{1}{2}", r"\text{if }x", r"\operatorname*{arg\,max}_{x}"])
def test_detokenize_roundtrips_through_tokenize(latex):
    assert tokenize(detokenize(tokenize(latex))) == tokenize(latex)


def test_detokenize_is_compact_and_separates_command_words():
    assert detokenize(["\\frac", "{", "a", "}", "{", "b", "}"]) == r"\frac{a}{b}"
    assert detokenize(["\\alpha", "x", "\\cdot", "2"]) == r"\alpha x\cdot2"


def test_im2markup_text_arguments_lose_their_token_spaces():
    from mathlens.tokenizer.lexer import from_im2markup

    assert from_im2markup(r"0 \quad \textrm { a n d } \quad \rho") == r"0 \quad \textrm {and} \quad \rho"
    assert tokenize(from_im2markup(r"\mbox { i f }")) == ["\\mbox", "{", "i", "f", "}"]
    assert from_im2markup(r"\mbox { a \ b }") == r"\mbox { a \ b }"  # an escaped space stays
    assert from_im2markup(r"x _ { a b }") == r"x _ { a b }"  # math mode is left alone
