-- wrk script: every request is a distinct tracking event (its own event_id), spread over
-- 1,000 packages per wrk thread, so the server really stores each one durably.
dofile("bench/wrk_threads.lua")

function init(args)
  run = args[1] or "R"
  sent = 0
  wrk.headers["Content-Type"] = "application/json"
  -- POST needs a writer key (bench/http creates one with `keys create` and exports it).
  wrk.headers["Authorization"] = "Bearer " .. (os.getenv("DINEX_BENCH_KEY") or "")
end

function request()
  sent = sent + 1
  local body = string.format(
    '{"tracking_id":"B%s%d-%d","location":"Lima","status":"IN_TRANSIT","event_id":"%s-%d-%d"}',
    run, thread_id, sent % 1000, run, thread_id, sent)
  return wrk.format("POST", "/tracking", nil, body)
end
