# The web task's main process (PID 1 in its container), mounted by web.yml as a config.
# Serves a page naming the replica with busybox httpd, prints a line for each request (the
# healthcheck's own requests from 127.0.0.1 left out) so `swarmctl service logs` shows traffic,
# and exits at once on SIGTERM: a PID 1 without a handler ignores SIGTERM, and every stop would
# wait out the 10 s grace period before Docker kills it.
name=$(hostname)
mkdir -p /www
echo "hello from $name" > /www/index.html
rm -f /tmp/requests
mkfifo /tmp/requests
# httpd -vv writes `CLIENT: url:/path` then `CLIENT: response:200` for each request.
while read -r line; do
  case "$line" in
    *127.0.0.1\]:* | 127.0.0.1:*) ;;
    *": url:"*) url=${line##*: url:} ;;
    *": response:"*) echo "$name: $url ${line##*: response:} from ${line%%: response:*}" ;;
  esac
done < /tmp/requests &
httpd -f -vv -p 8080 -h /www 2> /tmp/requests &
trap 'echo "$name: SIGTERM, stopping"; exit 0' TERM
echo "$name: serving on port 8080"
wait
