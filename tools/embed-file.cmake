# embed-file.cmake — turn a data file into a C source holding its bytes, so
# the binary carries it (cmake -DIN=file -DOUT=file.c -DNAME=symbol -P ...).
# Defines `const unsigned char NAME[]` (NUL-terminated, not counted) and
# `const size_t NAME_len`.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR len "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
       "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp"
  "/* Made by tools/embed-file.cmake from ${IN}; do not edit. */\n"
  "#include <stddef.h>\n"
  "const unsigned char ${NAME}[] = {\n${bytes}0x00};\n"
  "const size_t ${NAME}_len = ${len};\n")
# Rewritten only when it changed, so nothing rebuilds for nothing.
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
