#!/usr/bin/env bash
# What the tests need beyond node_modules, installed when missing so `npm test` works on a fresh Debian machine:
# Chromium (Debian's package: browser tests drive it through playwright-core) and moto + cfn-lint (python).
set -euo pipefail
need_apt=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need_apt[*]} (apt)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "missing: ${need_apt[*]}. Install Debian's package(s): sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
fi
# moto and cfn-lint live in the image's python (pyenv); Debian's python3 may not have them.
have_py_module() {
  for py in "${MOTO_PYTHON:-}" python3 "${PYENV_ROOT:-$HOME/.pyenv}/shims/python3"; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 && "$py" -c "import $1" 2>/dev/null && return 0
  done
  return 1
}
if ! have_py_module moto || ! have_py_module cfnlint; then
  echo "installing moto[server]==5.2.1 and cfn-lint (pip)" >&2
  python3 -m pip install -q 'moto[server]==5.2.1' 'cfn-lint==1.51.*' || {
    echo "could not install moto/cfn-lint: pip install 'moto[server]==5.2.1' cfn-lint" >&2
    exit 1
  }
fi
