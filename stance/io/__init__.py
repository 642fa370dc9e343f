"""Files in and out: the one table of formats, chunked readers, per-row checks, writers."""
