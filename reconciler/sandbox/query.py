"""Codat's query language for `?query=` and `?tags=`, compiled to a SQL condition.

Grammar (what the sandbox supports of https://docs.codat.io/using-the-api/querying):

    expr := term ('||' term)*
    term := atom ('&&' atom)*
    atom := '{' expr '}' | PROPERTY OP VALUE
    OP   := '=' | '!=' | '~'          (~ is "contains", case-insensitive)

A VALUE runs to the next `&&`, `||`, `}` or the end, trimmed; wrap it in double
quotes to keep those characters. `&&` binds tighter than `||`, as in Codat.
Compiling to SQL (rather than filtering rows in Python) keeps paging and
`totalResults` in the database, where they are cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Maps a property name to a SQL expression and its parameters; raises QueryError
# for a property the resource does not have.
Resolver = Callable[[str], tuple[str, list[str]]]


class QueryError(ValueError):
    """The filter text is malformed or names an unknown property."""


@dataclass(frozen=True, slots=True)
class Condition:
    prop: str
    op: str
    value: str


Token = str | Condition
_OPERATOR_START = "=!~"


def _read_value(text: str, i: int) -> tuple[str, int]:
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] == '"':
        end = text.find('"', i + 1)
        if end < 0:
            raise QueryError("unterminated quoted value")
        return text[i + 1 : end], end + 1
    start = i
    while i < len(text) and text[i] != "}" and text[i : i + 2] not in ("&&", "||"):
        i += 1
    return text[start:i].strip(), i


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
        elif text[i] in "{}":
            tokens.append(text[i])
            i += 1
        elif text[i : i + 2] in ("&&", "||"):
            tokens.append(text[i : i + 2])
            i += 2
        else:
            start = i
            while i < len(text) and text[i] not in _OPERATOR_START:
                i += 1
            prop = text[start:i].strip()
            if not prop or i >= len(text):
                raise QueryError(f"expected PROPERTY OP VALUE at {text[start:]!r}")
            op = "!=" if text.startswith("!=", i) else text[i]
            if op == "!":
                raise QueryError(f"unknown operator at {text[i:]!r}")
            value, i = _read_value(text, i + len(op))
            tokens.append(Condition(prop, op, value))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token], resolve: Resolver) -> None:
        self.tokens = tokens
        self.pos = 0
        self.resolve = resolve
        self.params: list[str] = []

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise QueryError("query ends too early")
        self.pos += 1
        return token

    def _chain(self, separator: str, part: Callable[[], str], joiner: str) -> str:
        parts = [part()]
        while self.peek() == separator:
            self.pos += 1
            parts.append(part())
        return parts[0] if len(parts) == 1 else "(" + f" {joiner} ".join(parts) + ")"

    def expr(self) -> str:
        return self._chain("||", self.term, "OR")

    def term(self) -> str:
        return self._chain("&&", self.atom, "AND")

    def atom(self) -> str:
        token = self.take()
        if token == "{":
            inner = self.expr()
            if self.take() != "}":
                raise QueryError("missing '}'")
            return inner
        if not isinstance(token, Condition):
            raise QueryError(f"unexpected {token!r}")
        column, column_params = self.resolve(token.prop)
        self.params.extend(column_params)
        self.params.append(token.value)
        if token.op == "=":
            return f"{column} = ?"
        if token.op == "!=":
            return f"{column} IS NOT ?"  # a missing value is "not equal"
        return f"instr(lower({column}), lower(?)) > 0"


def compile_filter(text: str, resolve: Resolver) -> tuple[str, list[str]]:
    """SQL condition and its parameters for `text`; ("1", []) for an empty filter."""
    tokens = tokenize(text)
    if not tokens:
        return "1", []
    parser = _Parser(tokens, resolve)
    sql = parser.expr()
    if parser.peek() is not None:
        raise QueryError(f"unexpected {parser.peek()!r}")
    return sql, parser.params


def column_resolver(columns: dict[str, str]) -> Resolver:
    """Properties that are plain columns, e.g. {"name": "name", "id": "id"}."""

    def resolve(prop: str) -> tuple[str, list[str]]:
        try:
            return columns[prop], []
        except KeyError:
            raise QueryError(f"Could not resolve property {prop}") from None

    return resolve


def tag_resolver(tags_column: str) -> Resolver:
    """Every property is a tag key, read from a JSON object column."""

    def resolve(prop: str) -> tuple[str, list[str]]:
        return f"json_extract({tags_column}, ?)", ['$."' + prop.replace('"', '""') + '"']

    return resolve
