"""The integrated neighbourhood care model (``model=care``)."""
