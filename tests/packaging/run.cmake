# Builds tests/packaging/consumer against strata, either installed with cmake --install
# (MODE=find_package) or as a subdirectory (MODE=add_subdirectory), and runs it.
# Usage: cmake -DSTRATA_SOURCE_DIR=... -DWORK_DIR=... -DMODE=... [-DGENERATOR=...] -P run.cmake
file(REMOVE_RECURSE ${WORK_DIR})
set(gen_args)
if(GENERATOR)
  set(gen_args -G ${GENERATOR})
endif()
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
set(consumer ${CMAKE_CURRENT_LIST_DIR}/consumer)
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} -S ${STRATA_SOURCE_DIR} -B ${WORK_DIR}/strata-build ${gen_args}
      -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_EXAMPLES=OFF -DSTRATA_BUILD_BENCHMARKS=OFF
      -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} --install ${WORK_DIR}/strata-build)
  run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/consumer-build ${gen_args}
      -DSTRATA_MODE=find_package -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
else()
  run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/consumer-build ${gen_args}
      -DSTRATA_MODE=add_subdirectory -DSTRATA_SOURCE_DIR=${STRATA_SOURCE_DIR})
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-build)
run(${WORK_DIR}/consumer-build/consumer)
