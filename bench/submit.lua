-- bench/submit.lua — wrk script for durable single-report submissions
-- (run by bench/dispatch.mjs). Each request files one institution's report for
-- one day, each institution once: wrk thread t of T takes the ids
-- FIRST+t, FIRST+t+T, … below FIRST+COUNT and stops when its last one has
-- been answered. Non-2xx answers are counted and printed at the end.
--   wrk -tT -cC -d60s --latency -s bench/submit.lua URL -- TOKEN TEMPLATE PERIOD FIRST COUNT T
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } cw_timespec;
int clock_gettime(int clk, cw_timespec *ts);
]]
local function now()
	local ts = ffi.new("cw_timespec")
	ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
	return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local nsetup = 0
local threads = {}
function setup(thread)
	thread:set("tid", nsetup)
	nsetup = nsetup + 1
	table.insert(threads, thread)
end

local token, template, period, first, count, nth
sent, answered, mine, bad = 0, 0, 0, 0 -- globals: done() reads them per thread
t_first, t_last = nil, nil
function init(args)
	token, template, period = args[1], args[2], args[3]
	first, count, nth = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
	mine = math.floor((count - tid + nth - 1) / nth)
end

local body = '{"status":"submitted","values":{"residents_present":80,"staff_on_duty":20,' ..
	'"closed_management":true,"new_infected":1,"currently_infected":3,"severe_cases":1,' ..
	'"stock_antipyretic":200,"used_antipyretic":10}}'

function request()
	if not t_first then t_first = now() end
	local k = tid + nth * (sent < mine and sent or mine - 1)
	sent = sent + 1
	return wrk.format("PUT", "/api/v1/reports/" .. template .. "/" .. (first + k) .. "/" .. period,
		{["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
	answered = answered + 1
	if status ~= 200 and status ~= 201 then bad = bad + 1 end
	if answered == mine then t_last = now() end
	if answered >= mine then wrk.thread:stop() end
end

function done(summary, latency, requests)
	local b, a, first, last, unfinished = 0, 0, nil, nil, false
	for _, t in ipairs(threads) do
		b = b + (t:get("bad") or 0)
		a = a + math.min(t:get("answered") or 0, t:get("mine") or 0)
		local f, l = t:get("t_first"), t:get("t_last")
		if f and (not first or f < first) then first = f end
		if l and (not last or l > last) then last = l end
		if not l then unfinished = true end
	end
	-- a thread that did not get through its share before -d ran out has no
	-- end time: the run then lasted wrk's whole duration
	local seconds = (unfinished or not first) and summary.duration / 1e6 or last - first
	io.write(string.format("BENCH completed=%d bad=%d seconds=%.3f p50=%.3f p99=%.3f\n",
		a, b, seconds, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
