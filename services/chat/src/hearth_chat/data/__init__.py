"""Data shipped with the chat service (the baseline safeguarding phrase list)."""
