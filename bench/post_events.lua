-- wrk script: every request is a distinct tracking event (its own event_id), so the server really
-- stores each one durably. Arguments: RUN (a prefix that keeps runs apart) and the packages:
--   hot (default)  1,000 packages per wrk thread, each posted to again and again;
--   new            every event is a package's first, so each request creates a package.
dofile("bench/wrk_threads.lua")

function init(args)
  run = args[1] or "R"
  packages = args[2] or "hot"
  if packages ~= "hot" and packages ~= "new" then
    error("post_events.lua: packages must be hot or new, not " .. packages)
  end
  sent = 0
  wrk.headers["Content-Type"] = "application/json"
  -- POST needs a writer key (bench/http creates one with `keys create` and exports it).
  wrk.headers["Authorization"] = "Bearer " .. (os.getenv("DINEX_BENCH_KEY") or "")
end

function request()
  sent = sent + 1
  local pkg = packages == "new" and sent or sent % 1000
  local body = string.format(
    '{"tracking_id":"B%s%d-%d","location":"Lima","status":"IN_TRANSIT","event_id":"%s-%d-%d"}',
    run, thread_id, pkg, run, thread_id, sent)
  return wrk.format("POST", "/tracking", nil, body)
end
