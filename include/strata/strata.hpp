#pragma once
// strata: neural networks as C++ types. Include this header for everything, or one
// component header for less.
#include "core/concepts.hpp"
#include "core/context.hpp"
#include "core/denormals.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/segment.hpp"
#include "core/shape.hpp"
#include "core/tensor.hpp"

#include "backend/cpu.hpp"

#include "layers/activation.hpp"
#include "layers/batch_norm.hpp"
#include "layers/conv2d.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/flatten.hpp"
#include "layers/gaussian_head.hpp"
#include "layers/heads.hpp"
#include "layers/pool.hpp"
#include "layers/residual.hpp"

#include "net/network.hpp"
#include "net/sequential.hpp"

#include "loss/bce.hpp"
#include "loss/cross_entropy.hpp"
#include "loss/gaussian_nll.hpp"
#include "loss/mse.hpp"
#include "loss/per_head.hpp"

#include "optim/adam.hpp"
#include "optim/clip.hpp"
#include "optim/rmsprop.hpp"
#include "optim/sgd.hpp"

#include "schedule/constant.hpp"
#include "schedule/cosine_annealing.hpp"
#include "schedule/exponential.hpp"
#include "schedule/multi_step.hpp"
#include "schedule/step.hpp"
#include "schedule/warmup.hpp"

#include "data/augment.hpp"
#include "data/dataset.hpp"
#include "data/mixup.hpp"
#include "data/normalize.hpp"
#include "data/split.hpp"
#include "data/synthetic.hpp"

#include "train/fit.hpp"
#include "train/metrics.hpp"
#include "train/model.hpp"
#include "train/progress.hpp"

#define STRATA_VERSION_MAJOR 0
#define STRATA_VERSION_MINOR 1
#define STRATA_VERSION_PATCH 0
