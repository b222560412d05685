# tmux and screen, detached: a session, keys sent to a shell in a pane,
# the pane captured, a second window and a split, then killed.
export TERM=xterm SHELL=/bin/bash
tmux -S "$PWD/t.sock" -f /dev/null new-session -d -s main -x 100 -y 30 'bash --norc --noprofile'
tmux -S "$PWD/t.sock" send-keys -t main 'PS1="$ "; clear; echo $((6 * 7)); tty | grep -c pts' Enter
sleep 2
tmux -S "$PWD/t.sock" capture-pane -p -t main | grep -v '^$' | grep -v '^\$ *$'
tmux -S "$PWD/t.sock" new-window -t main -n second 'bash --norc --noprofile'
tmux -S "$PWD/t.sock" split-window -t main:second -h
tmux -S "$PWD/t.sock" list-windows -t main -F '#{window_index} #{window_name} #{window_panes}'
tmux -S "$PWD/t.sock" display -p -t main:0 '#{pane_width}x#{pane_height}'
tmux -S "$PWD/t.sock" kill-server && echo tmux killed
screen -L -Logfile "$PWD/s.log" -dmS scr bash --norc --noprofile
sleep 1
screen -S scr -X stuff 'echo screen says $((7 * 6))\n'
sleep 2
screen -S scr -X hardcopy "$PWD/s.txt"
grep -c '^screen says 42' s.txt
screen -ls | grep -c scr
screen -S scr -X quit && echo screen quit
echo done
