import pytest
from hypothesis import given
from hypothesis import strategies as st

from graftwise.hla import GLLeaf, GLNode, GLSyntaxError, parse_gl, parse_glsc, write_gl


def test_precedence_splits_on_loosest_operator_first() -> None:
    tree = parse_gl("A*01:01/A*02:01+A*03:01")
    assert tree == GLNode("+", (GLNode("/", (GLLeaf("A*01:01", 0), GLLeaf("A*02:01", 8))), GLLeaf("A*03:01", 16)))


def test_genotype_list_of_phased_genotypes() -> None:
    tree = parse_gl("A*01:01~B*08:01+A*02:01~B*07:02|A*01:01~B*07:02+A*02:01~B*08:01")
    assert isinstance(tree, GLNode)
    assert tree.op == "|"
    assert [c.op for c in tree.children if isinstance(c, GLNode)] == ["+", "+"]


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ("A*01:01++A*02:01", "double_operator", 8),
        ("A*01:01/", "dangling_operator", 7),
        ("+A*01:01", "dangling_operator", 0),
        ("A*01:01^^B*08:01", "double_operator", 8),
        ("A*01:01 +A*02:01", "illegal_character", 7),
        ("A*01:01?A*01:02", "unsupported_1_1_operator", 7),
        ("", "empty_token", 0),
    ],
)
def test_syntax_errors_name_the_position(text: str, code: str, position: int) -> None:
    with pytest.raises(GLSyntaxError) as err:
        parse_gl(text)
    assert err.value.code == code
    assert err.value.position == position


def test_gl_string_code() -> None:
    code = parse_glsc("hla#3.25.0#HLA-A*01:01:01:01+HLA-A*01:02")
    assert code is not None
    assert (code.namespace, code.version, code.gl) == ("hla", "3.25.0", "HLA-A*01:01:01:01+HLA-A*01:02")
    assert str(code) == "hla#3.25.0#HLA-A*01:01:01:01+HLA-A*01:02"
    assert parse_glsc("A*01:01") is None


_token = st.from_regex(r"\A(HLA-)?(A|B|C|DRB1|DQB1)\*[0-9]{2}:[0-9]{2,3}\Z")


@st.composite
def _gl(draw: st.DrawFn, depth: int = 0) -> str:
    if depth == 5 or (draw(st.booleans()) and depth > 0):
        return draw(_token)
    op = "^|+~/"[depth]
    return op.join(draw(st.lists(_gl(depth + 1), min_size=1, max_size=3)))


@given(_gl())
def test_round_trip(text: str) -> None:
    assert write_gl(parse_gl(text)) == text
