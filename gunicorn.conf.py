# The serving line for Rounds: `gunicorn -c gunicorn.conf.py` (wsgi:app), behind nginx in production.
# Chosen by bench/load_bench.py (locust: N supervisors tapping every 2 s, a fail with a photo every
# 10th tap, gunicorn + PostgreSQL on loopback) on the 2-core machine; figures in the commit message.
import multiprocessing

wsgi_app = "wsgi:app"

# gthread, not sync: kept-alive connections wait in the worker's poller (no thread held between taps)
# and gunicorn 27 hands a client whose request data is slow to arrive (4G in a stairwell) back to the
# poller after 5 s instead of pinning a thread; sync closes every connection after one request and a
# slow upload holds the whole process. gevent is ruled out: a 200-275 ms photo normalisation is CPU
# in C and would stall every connection of its worker, and psycopg/boto3 would need monkey-patching.
worker_class = "gthread"

# Processes over threads: two cores, and photo normalisation (200-275 ms of CPU per 12 MP photo) holds
# the GIL for much of its time, so threads of one process queue behind it (the issue: a pass took
# 61-84 ms inside the server with --threads 4 against 21-28 ms with one thread). Back to back, 50
# supervisors, a 2 MB photo every 10th tap, 60 s, machine load 7.5-10 from another test suite:
#                      answers/s (25 offered)  pass p50/p95 client  in server  photo in server p50
#   gthread 4 x 2      22.0                      270 / 3838 ms        84 / 310     1028 ms
#   gthread 2 x 4      17.7                      564 / 6150 ms       101 / 509     2070 ms
#   sync    5          15.2                      212 / 8401 ms        44 / 268     1342 ms
# 4 x 2 keeps the same 8 requests in flight as 2 x 4 but lets at most one other request share a GIL
# with a photo, and the kernel shares the cores between processes. 5 x 1 gthread left taps waiting
# behind a photo in a worker that had already accepted their connection (11 client timeouts in
# 2,129 taps at 100 supervisors). ~95 MB RSS per worker after boot (~120 MB with the S3 client),
# 105-145 MB after 5 minutes; 8 PostgreSQL connections in all.
workers = 2 * multiprocessing.cpu_count()
threads = 2

# Above the 2 s between taps: with gunicorn's default 2 s a tap every 2 s meets a connection the
# server is closing and fails before it reaches the app (24 of 2,553 at 100 supervisors with 2 s;
# 0 of 4,743 with 5 s; the issue saw 20/2,490 at 50 and 52 at 100). An idle kept-alive connection
# costs a file descriptor in the poller, not a thread. Behind nginx, nginx holds the phone's
# connection (keepalive_timeout 75 s by default); if its upstream block keeps connections to us
# (`keepalive N`), its `keepalive_timeout` there must stay below this 5 s, or nginx meets the same race
# (and does not re-send a POST: a 502).
keepalive = 5

# A worker silent this long is killed and replaced (gthread's main loop heartbeats while threads
# work, so this bounds a wedged worker, not a slow upload); graceful_timeout lets in-flight taps
# finish on a restart or deploy. A phone gives up on a tap after 30 s + 1 s per 5 KB (queue.js) and
# sends it again under the same op, so nothing a worker is killed in the middle of is lost (kill -9
# of a worker at 100 supervisors: 60 taps got no reply, all were resent and stored once).
timeout = 30
graceful_timeout = 30

# Recycle workers now and then (with jitter, so they do not restart together): RSS grows from ~95 MB
# after boot to ~105-111 MB after 5 minutes at 100 supervisors (peaks of ~150 MB while 12 MP photos
# are decoded), and a recycle bounds any slow growth over days. Not measured over days.
max_requests = 5000
max_requests_jitter = 500

# Access log lines end with the request's duration (ms) and id: the same id as the app's own log lines
# for the request and nginx's $request_id (app/request_log.py).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms %({x-request-id}o)s'
