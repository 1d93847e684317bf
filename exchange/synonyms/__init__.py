"""Synonyms the bureau edits (同义词库) and those learned from providers' verdicts, wired into the
matcher beside the built-in table and the data elements' synonyms."""
