# crm_embed_files(<target> <symbol> FILES...)
# Generates a C++ source that holds each file's name and contents, so a binary carries its
# SQL migrations with it (containers and tests need no file layout at run time).
function(crm_embed_files target symbol)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_embedded.cc)
  # "|" instead of ";" so the list survives as one command-line argument.
  string(REPLACE ";" "|" files_arg "${ARGN}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYMBOL=${symbol} "-DFILES=${files_arg}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_files_script.cmake
    DEPENDS ${ARGN} ${CMAKE_SOURCE_DIR}/cmake/embed_files_script.cmake
    COMMENT "Embedding ${symbol}"
    VERBATIM)
  add_library(${target} STATIC ${out})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR})
endfunction()
