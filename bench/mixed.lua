-- bench/mixed.lua — wrk script for the load test (run by bench/load.mjs): keep-
-- alive connections mixing dashboard reads with report submissions. Every
-- tenth request in WRITE_PER_10 is a submission (one institution's report for
-- one day; thread t of T takes institutions t+1, t+1+T, …, moving one day back
-- after the last one), the others cycle through the dashboard's reads.
--   wrk -tT -cC -d60s --latency -s bench/mixed.lua URL -- TOKEN TEMPLATE N WRITE_PER_10 T PERIODS READ1 READ2 …
-- PERIODS is a comma-separated list of days, newest first. Non-2xx answers are
-- counted and printed at the end.
local nsetup = 0
local threads = {}
function setup(thread)
	thread:set("tid", nsetup)
	nsetup = nsetup + 1
	table.insert(threads, thread)
end

local token, template, n, wper10, nth
local periods, reads = {}, {}
sent, writes, bad = 0, 0, 0
function init(args)
	token, template, n, wper10, nth = args[1], args[2], tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
	for p in string.gmatch(args[6], "[^,]+") do table.insert(periods, p) end
	for i = 7, #args do table.insert(reads, args[i]) end
end

local body = '{"status":"submitted","values":{"residents_present":80,"staff_on_duty":20,' ..
	'"closed_management":true,"new_infected":1,"currently_infected":3,"severe_cases":1,' ..
	'"stock_antipyretic":200,"used_antipyretic":10}}'
local auth = {["Authorization"] = "Bearer " .. "", ["Content-Type"] = "application/json"}

function request()
	sent = sent + 1
	auth["Authorization"] = "Bearer " .. token
	if sent % 10 < wper10 then
		local k = tid + nth * writes
		writes = writes + 1
		local id = (k % n) + 1
		local p = periods[(math.floor(k / n) % #periods) + 1]
		return wrk.format("PUT", "/api/v1/reports/" .. template .. "/" .. id .. "/" .. p, auth, body)
	end
	return wrk.format("GET", reads[(sent % #reads) + 1], auth)
end

function response(status, headers, body)
	if status ~= 200 and status ~= 201 then
		bad = bad + 1
		if bad <= 3 then io.write("non-2xx: ", status, " ", body:sub(1, 200), "\n") end
	end
end

function done(summary, latency, requests)
	local b, w = 0, 0
	for _, t in ipairs(threads) do
		b = b + (t:get("bad") or 0)
		w = w + (t:get("writes") or 0)
	end
	local e = summary.errors
	io.write(string.format("BENCH requests=%d writes=%d non2xx=%d seconds=%.3f p50=%.3f p99=%.3f max=%.3f " ..
		"connect=%d read=%d write=%d timeout=%d status=%d\n",
		summary.requests, w, b, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
		latency.max / 1e3, e.connect, e.read, e.write, e.timeout, e.status))
end
