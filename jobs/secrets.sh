# The redaction rule of io.advspark.util.Secrets, for the launchers (sourced, not run): what the
# launcher prints must not carry a credential. Keep the two in step: SecretsTest runs both over one
# key table and fails when they disagree.

# Names that contain a secret word but hold no secret (Secrets.NOT_SECRET).
ADVSPARK_NOT_SECRET=(credentials.provider credential.provider sql.session.)
# The words, POSIX ERE on the lower-cased name without quotes (Secrets.WORDS).
ADVSPARK_SECRET_WORDS='secret|password|passwd|token|credential|session|accesskey|(^|[._-])key($|[._-])|(^|\.)fs\.gs\.auth\.'
ADVSPARK_MASK=REDACTED

# advspark_secret_key NAME: succeeds when NAME names a secret.
advspark_secret_key() {
  local k="${1,,}" n
  k="${k//\"/}"
  for n in "${ADVSPARK_NOT_SECRET[@]}"; do k="${k//"$n"/.}"; done
  [[ "$k" =~ $ADVSPARK_SECRET_WORDS ]]
}

# advspark_redact_word WORD: prints WORD with everything after the first secret KEY= masked
# (KEY=VALUE, --conf=KEY=VALUE, -DKEY=VALUE) and the user-info of any URI in it masked
# (Secrets.redactAssignment).
advspark_redact_word() {
  local w="$1" head="" rest="$1" out=""
  local re='^(.*[A-Za-z][A-Za-z0-9+.-]*://)[^/@[:space:]"'\'']+@(.*)$'
  while [[ "$rest" == *=* ]]; do
    head+="${rest%%=*}"
    rest="${rest#*=}"
    if advspark_secret_key "$head"; then
      printf '%s' "$head=$ADVSPARK_MASK"
      return
    fi
    head+="="
  done
  # From the last URI backwards, so that the mask itself is never matched again.
  while [[ "$w" =~ $re ]]; do
    out="$ADVSPARK_MASK@${BASH_REMATCH[2]}$out"
    w="${BASH_REMATCH[1]}"
  done
  printf '%s' "$w$out"
}
