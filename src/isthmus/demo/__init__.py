"""``isthmus demo``: the whole story on two local SQLite databases, no set-up needed."""
