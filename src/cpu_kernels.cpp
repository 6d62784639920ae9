// The CPU products of strata compiled once (CMake target strata::kernels): programs built
// with STRATA_SEPARATE_KERNELS defined use these instead of instantiating them in each
// translation unit (see the end of include/strata/backend/cpu_gemm.hpp).
#define STRATA_COMPILING_KERNELS
#include <strata/backend/cpu_gemm.hpp>

namespace strata::backend::cpu_kernels {
STRATA_CPU_KERNEL_INSTANCES()
}  // namespace strata::backend::cpu_kernels
