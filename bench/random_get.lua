-- wrk script: GET /tracking of a package chosen at random among the ones bench/scale stored
-- (S000000001 .. S<n>, n = the first argument), so that every request looks a different, cold
-- package up instead of one hot row.
dofile("bench/wrk_threads.lua")

function init(args)
  packages = tonumber(args[1]) or 1000
  math.randomseed(os.time() + thread_id * 7919)
end

function request()
  return wrk.format("GET", string.format("/tracking?tracking_id=S%09d", math.random(1, packages)))
end
