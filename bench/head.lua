-- bench/head.lua: make wrk send HEAD instead of GET (folio then runs the whole handler,
-- building the body, but bypasses its page cache and sends no body).
wrk.method = "HEAD"
