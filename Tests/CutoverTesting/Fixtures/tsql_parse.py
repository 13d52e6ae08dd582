"""Parses each file given as T-SQL with sqlglot (PyPI) and says which do not parse.

Cutover's T-SQL has no SQL Server to run on where it is built: this checks, at least, that every
script and query it writes is T-SQL a parser accepts. Prints `ok FILE STATEMENTS` per file that
parses and `error FILE: message` per file that does not; exits 1 when any did not.
"""
import logging
import sys

import sqlglot
from sqlglot.tokens import TokenType

# sqlglot logs a warning before it reports a statement it cannot read; the error says it all.
logging.getLogger("sqlglot").setLevel(logging.ERROR)
failed = False
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        # The parser closes a parenthesis left open before FROM by itself: count them first.
        tokens = sqlglot.tokenize(text, read="tsql")
        opened = sum(1 for token in tokens if token.token_type == TokenType.L_PAREN)
        closed = sum(1 for token in tokens if token.token_type == TokenType.R_PAREN)
        if opened != closed:
            raise ValueError(f"{opened} parentheses opened, {closed} closed")
        statements = sqlglot.parse(text, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
        print(f"ok {path} {len([s for s in statements if s is not None])}")
    except Exception as error:  # sqlglot's ParseError and TokenError, and the count above
        failed = True
        print(f"error {path}: {str(error)[:500]}")
sys.exit(1 if failed else 0)
