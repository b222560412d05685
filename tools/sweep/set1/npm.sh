npm --version >/dev/null && npm init -y >/dev/null && node -p 'require("./package.json").version'
