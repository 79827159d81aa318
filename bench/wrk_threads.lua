-- Shared by the wrk scripts (loaded with dofile from the repository root, where bench/ scripts
-- run wrk): numbers the wrk threads, so each one writes its own ids (`thread_id` in the thread).
local thread_counter = 0

function setup(thread)
  thread:set("thread_id", thread_counter)
  thread_counter = thread_counter + 1
end
