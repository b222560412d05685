sleep 2 & ps -eo comm | grep -c sleep; pgrep -c sleep
