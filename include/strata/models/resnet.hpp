#pragma once
// ResNet-18 for small images, as a type: a 3x3 stride-1 stem (no max pool, the usual form
// for 32x32 or 28x28 inputs), four stages of two basic blocks (64, 128, 256, 512 channels;
// stages 2-4 halve the image with a stride-2 first convolution and a 1x1-conv + BatchNorm
// projection shortcut), a global average pool and a Dense classifier. Convolutions have no
// bias, as in torchvision's resnet18; with 3 x 32 x 32 inputs and 100 classes it has
// 11,220,132 parameters, torch's figure (tests/parity/test_parity_blocks.cpp checks three
// input sizes against torch).
//
// **Example**: `Model<models::ResNet18<1, 28, 10>, loss::CrossEntropy, optim::SGD> model(...)`
#include <cstddef>

#include "../layers/activation.hpp"
#include "../layers/batch_norm.hpp"
#include "../layers/conv2d.hpp"
#include "../layers/dense.hpp"
#include "../layers/pool.hpp"
#include "../layers/residual.hpp"
#include "../net/sequential.hpp"

namespace strata::models {

/// The body of a ResNet basic block: conv3x3(stride) - BN - ReLU - conv3x3 - BN. Wrapped in
/// Residual, its shortcut is the identity or (when the stride or channel count changes) a
/// 1x1-conv + BN projection; the block's closing ReLU follows the Residual in the stack.
template <std::size_t Channels, std::size_t Stride = 1>
using BasicBlock = Residual<Conv2D<Channels, 3, Stride, 1, no_bias>, BatchNorm, ReLU,
                            Conv2D<Channels, 3, 1, 1, no_bias>, BatchNorm>;

/// ResNet-18 on Channels x Size x Size images with Classes outputs (logits).
template <std::size_t Channels, std::size_t Size, std::size_t Classes>
using ResNet18 = Sequential<Input<Channels, Size, Size>,                              //
                            Conv2D<64, 3, 1, 1, no_bias>, BatchNorm, ReLU,             // stem
                            BasicBlock<64>, ReLU, BasicBlock<64>, ReLU,                // stage 1
                            BasicBlock<128, 2>, ReLU, BasicBlock<128>, ReLU,           // stage 2
                            BasicBlock<256, 2>, ReLU, BasicBlock<256>, ReLU,           // stage 3
                            BasicBlock<512, 2>, ReLU, BasicBlock<512>, ReLU,           // stage 4
                            GlobalAvgPool, Dense<Classes>>;

static_assert(ResNet18<3, 32, 100>::parameter_count == 11'220'132,
              "ResNet18<3, 32, 100> must have torchvision's CIFAR ResNet-18 parameter count");

}  // namespace strata::models
