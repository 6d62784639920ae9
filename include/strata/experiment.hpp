#pragma once
// strata's experiment layer: search spaces (grid, random), architecture sweeps over
// Boost.Hana tuples of network types, parallel resumable sweeps with a JSON Lines journal,
// result tables (Markdown, CSV, JSON) and gnuplot plots. Brings nlohmann/json and
// Boost.Hana; strata.hpp does not include it.
#include "strata.hpp"

#include "experiment/arch.hpp"
#include "experiment/effects.hpp"
#include "experiment/journal.hpp"
#include "experiment/plot.hpp"
#include "experiment/search.hpp"
#include "experiment/sweep.hpp"
#include "experiment/table.hpp"
#include "experiment/trial.hpp"
#include "models/mlp.hpp"
#include "optim/any.hpp"
#include "schedule/any.hpp"
