# Usage: cmake -DCOMPILER=... -DSOURCE=file.cpp -DINCLUDES="a;b" -P CompileFail.cmake
# Passes when SOURCE fails to compile and the diagnostics match the regular expression
# given on the file's "// expect-error: REGEX" line.
file(STRINGS ${SOURCE} expect_lines REGEX "^// expect-error: ")
if(NOT expect_lines)
  message(FATAL_ERROR "${SOURCE} has no '// expect-error: REGEX' line")
endif()
list(GET expect_lines 0 expect_line)
string(REGEX REPLACE "^// expect-error: " "" expected "${expect_line}")
set(include_flags)
foreach(dir ${INCLUDES})
  list(APPEND include_flags -I${dir})
endforeach()
execute_process(
  COMMAND ${COMPILER} -std=c++20 -fsyntax-only ${include_flags} ${SOURCE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must fail with: ${expected}")
endif()
if(NOT "${out}${err}" MATCHES "${expected}")
  message(FATAL_ERROR "${SOURCE} failed to compile, but not with the expected message '${expected}'. Output:\n${err}")
endif()
string(REGEX MATCH "error: [^\n]*" first_error "${err}")
message(STATUS "failed as expected: ${first_error}")
