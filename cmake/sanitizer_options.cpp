// Default options of the sanitizers for every program of a STRATA_SANITIZE build (an
// environment variable of the same name still overrides them). Each report fails the run:
// the programs are compiled with -fno-sanitize-recover=all, and TSan halts on its first.
extern "C" {
const char* __asan_default_options() { return "detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"; }
const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }
// libomp itself is not instrumented; Archer supplies its synchronisation to TSan.
const char* __tsan_default_options() { return "ignore_noninstrumented_modules=1:halt_on_error=1:second_deadlock_stack=1"; }
}
