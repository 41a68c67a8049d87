-- bench/walk.lua: a wrk script for sequential keyset walks through folio.
--
-- Every connection walks: it requests the first page, then whatever links.next its last
-- response named, and starts over at the first page when a page has no next link (the end
-- of the table) or when something went wrong. wrk gives the script no connection identity,
-- so the walks are kept as a queue of next URLs: each response pushes one next URL and the
-- following request pops one. A connection asks for its next request only after its
-- response was handled, so with C connections there are always C walks in flight and every
-- walk's steps are strictly sequential, which is what a client following links does.
--
-- Each page is checked: status 200, the rows' ids strictly consecutive (the demo
-- messages table has ids 1..N with no gaps), and the page full unless it is the last one.
-- done() prints the counts; run.sh reads the "walk:" line.
--
-- usage: wrk -s bench/walk.lua http://HOST:PORT -- FIRST_PATH
--        FIRST_PATH e.g. /api/messages?per_page=20

local first = "/api/messages?per_page=20"
local queue = {}          -- next paths, FIFO
local head, tail = 1, 0
local per_page = 20

pages, walks_done, restarts, bad = 0, 0, 0, 0
bad_detail = ""

function init(args)
    if args[1] ~= nil then
        first = args[1]
    end
    per_page = tonumber(string.match(first, "per_page=(%d+)")) or 20
end

local function push(path)
    tail = tail + 1
    queue[tail] = path
end

function request()
    local path = first
    if head <= tail then
        path = queue[head]
        queue[head] = nil
        head = head + 1
    end
    return wrk.format("GET", path)
end

local function fail(why)
    bad = bad + 1
    if bad_detail == "" then
        bad_detail = why
    end
    restarts = restarts + 1
    push(first)
end

function response(status, headers, body)
    if status ~= 200 then
        return fail("status " .. status)
    end
    local prev, n = nil, 0
    local data = string.match(body, '^{"data":%[(.-)%],"meta":')
    if data == nil then
        return fail("no data array")
    end
    for id in string.gmatch(data, '{"id":(%d+),') do
        id = tonumber(id)
        if prev ~= nil and id ~= prev + 1 then
            return fail("ids not consecutive: " .. prev .. " then " .. id)
        end
        prev = id
        n = n + 1
    end
    pages = pages + 1
    local next_path = string.match(body, '"links":{.-"next":"([^"]+)"')
    if next_path == nil then
        walks_done = walks_done + 1
        push(first)
    elseif n ~= per_page then
        fail("short page (" .. n .. " rows) with a next link")
    else
        push(next_path)
    end
end

function setup(thread)
    threads = threads or {}
    table.insert(threads, thread)
end

function done(summary, latency, requests)
    local p, w, r, b, d = 0, 0, 0, 0, ""
    for _, t in ipairs(threads or {}) do
        p = p + t:get("pages")
        w = w + t:get("walks_done")
        r = r + t:get("restarts")
        b = b + t:get("bad")
        if d == "" then
            d = t:get("bad_detail")
        end
    end
    io.write(string.format("walk: pages=%d walks_completed=%d restarts=%d bad=%d detail=%s\n",
                           p, w, r, b, d))
end
