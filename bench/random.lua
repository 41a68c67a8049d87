-- bench/random.lua: a wrk script for clients at random positions: every request is
-- PREFIX followed by a random integer from LO to HI (a page number, or a raw `after` id),
-- so no request follows the link of another. What prefetch must not pay for.
--
-- usage: wrk -s bench/random.lua http://HOST:PORT -- PREFIX LO HI
--        e.g. -- "/api/messages?per_page=20&page=" 1 49999

local prefix, lo, hi = "/api/messages?per_page=20&page=", 1, 49999
local seeded = false

function init(args)
    prefix = args[1] or prefix
    lo = tonumber(args[2]) or lo
    hi = tonumber(args[3]) or hi
end

function request()
    if not seeded then
        math.randomseed(16)  -- the same sequence in every run
        seeded = true
    end
    return wrk.format("GET", prefix .. math.random(lo, hi))
end
