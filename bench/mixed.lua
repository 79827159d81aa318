-- wrk script: 90% lookups of a seeded package, 10% distinct durable writes.
dofile("bench/wrk_threads.lua")

function init(args)
  run = args[1] or "M"
  sent = 0
end

function request()
  sent = sent + 1
  if sent % 10 == 0 then
    local body = string.format(
      '{"tracking_id":"M%s%d-%d","location":"Lima","status":"IN_TRANSIT","event_id":"%s-%d-%d"}',
      run, thread_id, sent % 1000, run, thread_id, sent)
    return wrk.format("POST", "/tracking", {["Content-Type"] = "application/json",
                                            ["Authorization"] = "Bearer " .. (os.getenv("DINEX_BENCH_KEY") or "")}, body)
  end
  return wrk.format("GET", "/tracking?tracking_id=BENCH001")
end
