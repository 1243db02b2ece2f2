// Internal: a doubly-linked list threaded through its elements.
//
// The scheduler keeps tasks, cancel scopes and parked waiters on lists that
// must support O(1) removal from the middle without allocating (a cancelled
// waiter unlinks itself; a finished child leaves its nursery). An element
// derives from list_node<Tag> once for each list it can be on; the tag names
// the list, so one object can sit on several.
#pragma once

#include <cassert>
#include <cstddef>

namespace trellis::detail {

template <class Tag>
class list_node {
public:
    bool is_linked() const noexcept { return linked_; }

private:
    template <class, class>
    friend class intrusive_list;
    list_node* prev_ = nullptr;
    list_node* next_ = nullptr;
    bool linked_ = false;
};

template <class T, class Tag>
class intrusive_list {
    using node = list_node<Tag>;

public:
    intrusive_list() = default;
    intrusive_list(const intrusive_list&) = delete;
    intrusive_list& operator=(const intrusive_list&) = delete;

    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }
    T* front() const noexcept { return head_ ? static_cast<T*>(head_) : nullptr; }

    void push_back(T* item) noexcept {
        node* n = item;
        assert(!n->linked_ && "trellis bug: element already on a list");
        n->prev_ = tail_;
        n->next_ = nullptr;
        n->linked_ = true;
        if (tail_) tail_->next_ = n; else head_ = n;
        tail_ = n;
        ++size_;
    }

    void remove(T* item) noexcept {
        node* n = item;
        assert(n->linked_ && "trellis bug: removing an element that is not on a list");
        if (n->prev_) n->prev_->next_ = n->next_; else head_ = n->next_;
        if (n->next_) n->next_->prev_ = n->prev_; else tail_ = n->prev_;
        n->prev_ = n->next_ = nullptr;
        n->linked_ = false;
        --size_;
    }

    T* pop_front() noexcept {
        T* item = front();
        if (item) remove(item);
        return item;
    }

    // Calls fn on every element in order. fn may remove the element it is
    // given (but no other), which is what delivering a cancellation needs.
    template <class Fn>
    void for_each(Fn&& fn) const {
        for (node* n = head_; n;) {
            node* following = n->next_;
            fn(static_cast<T*>(n));
            n = following;
        }
    }

private:
    node* head_ = nullptr;
    node* tail_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace trellis::detail
