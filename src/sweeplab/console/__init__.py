"""What a person sees on a terminal: the rich screen (plans, tables) and the progress display. Used by the
CLI and by the Python API's ``verbose`` runs; the engine reaches it only through its observer."""
