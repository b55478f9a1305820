/* Moved: the identifier rules are server/protocol/identifiers.h, shared
 * with the broker plugin. This name stays only until every includer uses
 * the new one. */
#include "identifiers.h"
