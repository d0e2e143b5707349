// Makes the rule catalogue (operators/registry.h) the rules of every pipeline of a binary
// linked with vigil_rules (SetRuleFactory, engine/pipeline.h): the engine library never includes
// operators/, and every binary and test that links the rules runs them, with no call to forget.
// vigil_rules is an object library, so this initializer is always linked in.
#include "registry.h"
#include "pipeline.h"

namespace vigil {
namespace {

const bool kRulesInstalled = (SetRuleFactory(&BuildRules), true);

}  // namespace
}  // namespace vigil
