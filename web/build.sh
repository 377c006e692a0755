#!/bin/sh
# Build the web phone's browser bundles into web/static/vendor/ (gitignored):
#   jssip.min.js      window.JsSIP = require('jssip'), bundled with esbuild (JsSIP ships CommonJS only)
#   socket.io.min.js  the socket.io-client 4.x browser build (Engine.IO 4, matches python-socketio 5)
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund
fi
mkdir -p static/vendor
printf "window.JsSIP = require('jssip');\n" | ./node_modules/.bin/esbuild \
    --bundle --format=iife --minify --platform=browser --target=es2019 \
    --sourcefile=jssip-entry.js --log-level=warning --outfile=static/vendor/jssip.min.js
# Drop the source map reference: the .map is not shipped.
sed '/^\/\/# sourceMappingURL=/d' node_modules/socket.io-client/dist/socket.io.min.js >static/vendor/socket.io.min.js
echo "built: $(ls static/vendor | tr '\n' ' ')"
